"""Mailing-list archives in mbox format, as Pipermail publishes them, read as threads.

A Pipermail archive is a folder of monthly mbox files (``2016-May.txt``) whose
separator lines and ``From:`` headers hide addresses as ``jane.doe at example.com``.
All files given in one load are threaded together, so a reply posted in the next
month joins its thread: first by ``In-Reply-To`` / ``References`` (the root is the
earliest ancestor present in the archive), then, for a reply whose parent is absent
or that carries no such headers, by its normalised subject.

Ids come from Message-IDs, which are globally unique: ``Post.id`` is
``stable_id("mbox", <message id>)`` and ``Document.id`` is
``stable_id("mbox", "thread", <root message id>)``. The list name is left out of both
because it is inferred (from ``List-Id`` or subject tags, which vary with the months
loaded), and ids must not change with what else was read.
"""

from __future__ import annotations

import email
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.discussions.export_files import opening_line
from ingest.loaders.discussions.mail_body import authored_text, header_text, message_text
from ingest.loaders.discussions.mail_thread import Thread, clean_subject, thread_messages

# An mbox separator is "From <sender> <asctime>"; requiring the date keeps body lines
# such as "From the log you sent..." (which Pipermail does not escape) inside the body.
_SEPARATOR = re.compile(
    rb"^From \S+(?: at \S+)? +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{1,2}:\d{2}", re.M
)
_SUFFIXES = (".txt", ".mbox")
_HEAD_BYTES = 4096
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_PIPERMAIL_STEM = re.compile(r"^(\d{4})-(" + "|".join(_MONTHS) + r")$")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_REPLY_SUBJECT = re.compile(r"^\s*(?:\[[^\]]*\]\s*)*(?:re|aw|sv)\s*(?:\[\d+\])?\s*:", re.I)
_LIST_TAG = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv)\s*:\s*)*\[([^\]]+)\]", re.I)
_OBFUSCATED_FROM = re.compile(r"^\s*(\S+) at (\S+?)\s*(?:\((.*)\))?\s*$")


@dataclass(frozen=True)
class _Message:
    key: str
    path: Path
    month: str
    subject: str
    author_id: str
    author_name: str
    created_at: int | None
    text: str
    parents: tuple[str, ...]
    list_id: str


class MailingListLoader:
    """A mailing-list archive: one mbox file, or a folder of them (``*.txt``, ``*.mbox``).

    Each thread becomes a `Document` whose posts hold only what each author wrote
    (quotes, attributions, signatures, list footers and attachment stubs removed).

    Args:
        archive_url: The Pipermail archive root, e.g.
            ``http://lists.example.org/pipermail/mylist``. When given, a thread links
            to ``{archive_url}/{YYYY-Month}/thread.html`` of the month its root was
            posted in, and a post to that index of its own month: Pipermail's
            per-message pages are numbered by the server, which the mbox does not record.
        list_name: The channel name; by default the ``List-Id``, else the most common
            ``[tag]`` in subjects, else the folder's name.
    """

    kind = "mbox"

    def __init__(self, archive_url: str = "", list_name: str = "") -> None:
        self.archive_url = archive_url.rstrip("/")
        self.list_name = list_name

    def detect(self, path: Path) -> bool:
        """True for an mbox file, or a folder holding ``*.txt`` / ``*.mbox`` mbox files."""
        try:
            if path.is_dir():
                return any(_looks_like_mbox(f) for f in _candidate_files(path))
        except OSError:
            return False
        return _looks_like_mbox(path)

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        """Yield one `Document` per thread across all the archive's files."""
        files = [path]
        if path.is_dir():
            try:
                candidates = _candidate_files(path)
            except OSError as exc:
                yield LoadFailure(str(path), f"unreadable folder: {exc.strerror or exc}")
                return
            files = []
            for file in candidates:
                if _looks_like_mbox(file):
                    files.append(file)
                elif file.suffix.lower() == ".mbox":  # a .txt may well be a README
                    yield LoadFailure(str(file), "not an mbox file: no 'From ' line first")
            if not files:
                yield LoadFailure(str(path), "no mbox files (*.txt, *.mbox) in this folder")
                return
        messages: list[_Message] = []
        seen: set[str] = set()
        for file in files:
            for item in _read_messages(file):
                if isinstance(item, LoadFailure):
                    yield item
                elif item.key not in seen:  # an archive can hold the same message twice
                    seen.add(item.key)
                    messages.append(item)
        channel = self.list_name or _list_name(messages, path)
        for thread in thread_messages(messages):
            document = self._document(thread, messages, channel)
            if document is not None:
                yield document

    def _document(self, thread: Thread, messages: list[_Message], channel: str) -> Document | None:
        posts = []
        for index, parent in thread.members:
            message = messages[index]
            if not message.text:
                continue
            posts.append(
                Post(
                    id=stable_id(self.kind, message.key),
                    author_id=message.author_id,
                    author_name=message.author_name,
                    text=message.text,
                    created_at=message.created_at,
                    url=self._url(message.month),
                    reply_to=None if parent is None else stable_id(self.kind, messages[parent].key),
                )
            )
        if not posts:
            return None
        root = messages[thread.root]
        return Document(
            id=stable_id(self.kind, "thread", root.key),
            kind=self.kind,
            title=clean_subject(root.subject) or opening_line(posts[0].text),
            path=str(root.path),
            url=self._url(root.month),
            channel=channel,
            author=posts[0].author_name,
            created_at=posts[0].created_at,
            posts=tuple(posts),
        )

    def _url(self, month: str) -> str:
        return f"{self.archive_url}/{month}/thread.html" if self.archive_url and month else ""


def _candidate_files(folder: Path) -> list[Path]:
    files = [f for f in folder.iterdir() if f.suffix.lower() in _SUFFIXES and f.is_file()]
    return sorted(files, key=_file_order)


def _file_order(path: Path) -> tuple[int, int, str]:
    """Pipermail's monthly files in calendar order, others by name before them."""
    match = _PIPERMAIL_STEM.match(path.stem)
    if match is None:
        return (0, 0, path.name)
    return (int(match[1]), _MONTHS.index(match[2]), path.name)


def _looks_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:  # also a folder: callers report what they cannot read
        return False
    first = next((line for line in head.splitlines() if line.strip()), b"")
    return bool(_SEPARATOR.match(first))


def _read_messages(path: Path) -> Iterator[_Message | LoadFailure]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield LoadFailure(str(path), f"unreadable: {exc.strerror or exc}")
        return
    # Text before the first separator is not a message; text between two separators,
    # however odd, stays in the body of the message above it.
    starts = [match.start() for match in _SEPARATOR.finditer(data)]
    if not starts:
        yield LoadFailure(str(path), "not an mbox file: no 'From <sender> <date>' line")
        return
    month = path.stem if _PIPERMAIL_STEM.match(path.stem) else ""
    for start, end in zip(starts, [*starts[1:], len(data)], strict=True):
        _, _, raw = data[start:end].partition(b"\n")
        try:
            # compat32 keeps headers as raw strings: the default policy's structured header
            # parsers can raise on the malformed addresses and ids that old archives hold.
            yield _parse(email.message_from_bytes(raw, policy=compat32), path, month)
        except RecursionError:  # the parser recurses once per level of multipart nesting
            yield LoadFailure(
                str(path), f"message at byte {start}: MIME parts nested too deeply to read"
            )


def _parse(message: Message, path: Path, month: str) -> _Message:
    author_id, author_name = _author(header_text(message, "From"))
    date = _date(header_text(message, "Date"))
    subject = header_text(message, "Subject")
    ids = _MESSAGE_ID.findall(header_text(message, "Message-ID"))
    # Nearest ancestor first: In-Reply-To, then References from the last one back.
    parents = _MESSAGE_ID.findall(header_text(message, "In-Reply-To"))[::-1]
    parents += _MESSAGE_ID.findall(header_text(message, "References"))[::-1]
    is_reply = bool(parents) or bool(_REPLY_SUBJECT.match(subject))
    text = authored_text(message_text(message), is_reply=is_reply)
    list_name, list_address = parseaddr(header_text(message, "List-Id"))
    if not month and date is not None:
        month = f"{date.year}-{_MONTHS[date.month - 1]}"
    return _Message(
        key=ids[0] if ids else stable_id(author_id, header_text(message, "Date"), subject, text),
        path=path,
        month=month,
        subject=subject,
        author_id=author_id,
        author_name=author_name,
        created_at=None if date is None else int(date.timestamp()),
        text=text,
        parents=tuple(parents),
        list_id=list_name or list_address,
    )


def _author(value: str) -> tuple[str, str]:
    """(address, display name) from "jane at example.com (Jane)" or "Jane <jane@...>"."""
    match = _OBFUSCATED_FROM.match(value)
    if match:
        address, name = f"{match[1]}@{match[2]}", match[3] or ""
    else:
        name, address = parseaddr(value)
    address = address.lower()
    name = name.strip().strip('"').strip()
    # Pipermail often shows the obfuscated address itself as the display name.
    is_address = name.replace(" at ", "@").lower() == address
    return address, address if is_address or not name else name


def _date(value: str) -> datetime | None:
    """The Date header in UTC (a date without zone taken as UTC), or None if unparseable."""
    try:
        date = parsedate_to_datetime(value)
        return date.astimezone(UTC) if date.tzinfo else date.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _list_name(messages: list[_Message], path: Path) -> str:
    for names in (
        Counter(m.list_id for m in messages if m.list_id),
        Counter(match[1].strip() for m in messages if (match := _LIST_TAG.match(m.subject))),
    ):
        if names:
            return names.most_common(1)[0][0]
    return (path if path.is_dir() else path.parent).name
