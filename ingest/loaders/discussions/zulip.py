"""Zulip: a zulip-archive JSON export, one thread per stream topic.

The layout written by zulip-archive (https://github.com/zulip/zulip-archive)::

    zulip_json/stream_index.json           {"streams": {name: {"id", "topic_data": {topic: ...}}}}
    zulip_json/<id>-<stream>/<topic>.json  [{"id", "sender_full_name", "timestamp", "content"}]
    stream/<id>-<stream>/topic/<topic>.html  the HTML archive, whose post links name the realm

Folder and file names are dot-encoded ("3D.20plotting" for "3D plotting"). The loader
decodes them rather than re-encoding topic names, because zulip-archive versions have
encoded them differently; stream folders are matched by the stream id they start with.

Who may read: zulip-archive archives public streams and writes nothing of privacy into
`stream_index.json` (an entry holds `id`, `latest_id` and `topic_data`), so its streams
restrict nothing (`Document.access == ""`: the source's level applies). A stream's entry
may also carry what Zulip's API says of a stream: `"invite_only": true` (a stream object's
field) and `"subscribers": [user id, ...]` (a subscription object's). Then the stream's
topics are for its subscribers only: `access` is `group:#<stream>` and `readers` the
subscribers' (user id, name) pairs, named from the stream's own messages (a `sender_id`
with its `sender_full_name`, or a user mention's `data-user-id`), the id standing in for a
name they do not give. An invite-only stream without a subscriber list is `maintainers`;
an `invite_only` that is anything but false (a malformed one too) counts as true.
"""

from __future__ import annotations

import html
import math
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from copqa.access import GROUP, MAINTAINERS
from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.discussions.export_files import opening_line, read_json_file
from ingest.loaders.documents.html import QuoteMarkup, html_to_text

_INDEX = "stream_index.json"
_JSON_DIR = "zulip_json"
_NARROW_LINK = re.compile(rb'href="(https?://[^"#]+?)/?#narrow/')
_HASH_REPLACEMENTS = {"%": ".", "(": ".28", ")": ".29", ".": ".2E"}
_PAGE_HEAD_BYTES = 65_536  # the first post's link comes early in a topic page
# `<span class="user-mention" data-user-id="31">@Keith Lindsay</span>` (silent: no "@").
_USER_MENTION = re.compile(r'<span class="user-mention[^"]*" data-user-id="(\d+)">@?([^<]+)</span>')
# A quote-reply: another member's words in the quoter's message, kept as `> ` lines.
QUOTE_REPLY = QuoteMarkup("blockquote")


class ZulipArchiveLoader:
    """A zulip-archive export: each topic of each stream becomes one thread.

    Pass the archive root or its `zulip_json` folder. The archive's JSON carries no
    sender ids, so `Post.author_id` is the sender's full name unless a `sender_id` is there.
    """

    kind = "zulip"

    def __init__(self, site_url: str = "") -> None:
        """Create a loader.

        Args:
            site_url: the Zulip realm's address (e.g. ``https://chat.zulip.org``), used to
                link every post. When empty it is read from the archive's HTML pages, if
                present; without it posts have no URL.
        """
        self.site_url = site_url.rstrip("/")

    def detect(self, path: Path) -> bool:
        try:
            return (path / _INDEX).is_file() or (path / _JSON_DIR / _INDEX).is_file()
        except OSError:
            return False

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        json_dir = path / _JSON_DIR if (path / _JSON_DIR / _INDEX).is_file() else path
        index_path = json_dir / _INDEX
        try:
            streams = _read_index(index_path)
        except ValueError as exc:
            yield LoadFailure(str(index_path), str(exc))
            return
        site_url = self.site_url or _archive_site_url(json_dir.parent)
        site = urllib.parse.urlsplit(site_url).netloc.lower()
        folders = _stream_folders(json_dir)
        for name, stream in streams.items():
            folder = folders.get(stream["id"])
            topics, failures = _read_topics(folder)
            yield from failures
            access, readers = _stream_access(name, stream, [m for *_, ms in topics for m in ms])
            place = _Stream(name, stream["id"], site_url, site)
            for topic_file, topic, messages in topics:
                document = self._topic(place, topic, topic_file, messages)
                if document is not None:
                    yield replace(document, access=access, readers=readers)
            for topic in sorted(set(stream["topic_data"]) - {topic for _, topic, _ in topics}):
                yield LoadFailure(
                    str(folder or json_dir),
                    f"stream {name!r}: topic {topic!r} is listed in {_INDEX} but has no file",
                )

    def _topic(
        self, stream: _Stream, topic: str, topic_file: Path, messages: list[dict[str, Any]]
    ) -> Document | None:
        """One topic's thread; None when none of its messages has text."""
        narrow = (
            _narrow_url(stream.site_url, stream.id, stream.name, topic) if stream.site_url else ""
        )
        ordered = sorted(
            messages, key=lambda m: (_number(m.get("timestamp")) or 0, _number(m.get("id")) or 0)
        )
        posts = [p for m in ordered if (p := self._post(m, stream.site, narrow)) is not None]
        if not posts:
            return None
        return Document(
            id=stable_id(self.kind, stream.site, stream.id, topic),
            kind=self.kind,
            title=topic or opening_line(posts[0].text),
            path=str(topic_file),
            url=narrow,
            channel=f"#{stream.name}",
            author=posts[0].author_name,
            created_at=posts[0].created_at,
            posts=tuple(posts),
        )

    def _post(self, message: dict[str, Any], site: str, narrow: str) -> Post | None:
        message_id = message.get("id")
        text = html_to_text(_text(message.get("content")), quotes=QUOTE_REPLY)
        if not isinstance(message_id, int) or not text:
            return None
        name = _text(message.get("sender_full_name"))
        sender_id = _text(message.get("sender_id"))
        timestamp = _number(message.get("timestamp"))
        return Post(
            id=stable_id(self.kind, site, message_id),
            author_id=sender_id or name,
            author_name=name,
            text=text,
            created_at=None if timestamp is None else int(timestamp),
            url=f"{narrow}/near/{message_id}" if narrow else "",
        )


@dataclass(frozen=True)
class _Stream:
    """Where a stream's topics are: its name and id, and the realm's address and host."""

    name: str
    id: int
    site_url: str
    site: str


def _read_topics(
    folder: Path | None,
) -> tuple[list[tuple[Path, str, list[dict[str, Any]]]], list[LoadFailure]]:
    """A stream folder's topics, each (file, topic name, messages), and its unreadable files.

    An unreadable topic file is still a topic, without messages: it is not reported again
    as a listed topic without a file.
    """
    topics: list[tuple[Path, str, list[dict[str, Any]]]] = []
    failures: list[LoadFailure] = []
    for topic_file in sorted(folder.glob("*.json")) if folder else ():
        topic = urllib.parse.unquote(topic_file.stem.replace(".", "%"))
        try:
            topics.append((topic_file, topic, _read_messages(topic_file)))
        except ValueError as exc:
            topics.append((topic_file, topic, []))
            failures.append(LoadFailure(str(topic_file), str(exc)))
    return topics, failures


def _stream_access(
    name: str, stream: dict[str, Any], messages: list[dict[str, Any]]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Who may read a stream's topics, as its `stream_index.json` entry says: level, readers.

    Args:
        name: The stream's name.
        stream: Its entry; `invite_only` and `subscribers` (user ids) are read.
        messages: The stream's messages, which name its subscribers.
    """
    if stream.get("invite_only", False) is False:
        return "", ()
    subscribers = stream.get("subscribers")
    ids = [
        str(uid)
        for uid in (subscribers if isinstance(subscribers, list) else ())
        if isinstance(uid, int) and not isinstance(uid, bool)
    ]
    if not ids:
        return MAINTAINERS, ()
    names = _user_names(messages)
    return f"{GROUP}#{name}", tuple((uid, names.get(uid, uid)) for uid in dict.fromkeys(ids))


def _user_names(messages: list[dict[str, Any]]) -> dict[str, str]:
    """User id to full name, from messages' senders and the users their text mentions."""
    names: dict[str, str] = {}
    for message in messages:
        for uid, name in _USER_MENTION.findall(_text(message.get("content"))):
            names.setdefault(uid, html.unescape(name).strip())
    for message in messages:  # a sender's own name over how others mention them
        uid, name = _text(message.get("sender_id")), _text(message.get("sender_full_name"))
        if uid and name:
            names[uid] = name
    return names


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    """The streams of `stream_index.json`, by name, each with an int `id` and `topic_data`."""
    data = read_json_file(path)
    streams = data.get("streams") if isinstance(data, dict) else None
    if not isinstance(streams, dict) or not all(
        isinstance(s, dict)
        and isinstance(s.get("id"), int)
        and isinstance(s.get("topic_data"), dict)
        for s in streams.values()
    ):
        raise ValueError(
            'not a zulip-archive index: expected {"streams": {name: {"id", "topic_data"}}}'
        )
    return streams


def _read_messages(path: Path) -> list[dict[str, Any]]:
    data = read_json_file(path)
    if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
        raise ValueError("not a zulip-archive topic: expected a JSON list of messages")
    return data


def _stream_folders(json_dir: Path) -> dict[int, Path]:
    """Stream folders by the stream id their name starts with (`10-python-questions`)."""
    folders: dict[int, Path] = {}
    for child in sorted(json_dir.iterdir()):
        prefix = child.name.split("-", 1)[0]
        # ASCII digits only: "²".isdigit() is true, yet int() refuses it.
        if child.is_dir() and prefix.isascii() and prefix.isdecimal():
            folders[int(prefix)] = child
    return folders


def _archive_site_url(root: Path) -> str:
    """The realm address the HTML archive links to, or "" when there is no HTML archive."""
    try:
        # Every page links to the same realm, so the first one found is enough.
        page = next((root / "stream").glob("*/topic/*.html"), None)
        if page is None:
            return ""
        with page.open("rb") as handle:
            head = handle.read(_PAGE_HEAD_BYTES)
    except OSError:
        return ""
    match = _NARROW_LINK.search(head)
    if match is None:
        return ""
    url = match.group(1).decode("ascii", errors="replace")
    try:
        urllib.parse.urlsplit(url)
    except ValueError:  # "https://[x": not an address (urlsplit checks IPv6 brackets)
        return ""
    return url


def _text(value: object) -> str:
    """A string or number field as text; "" for a missing or malformed one (a list...)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def _number(value: object) -> float | None:
    """A finite JSON number, or None for a missing or malformed one (NaN, 1e999...)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            return None
        return number if math.isfinite(number) else None
    return None


def _narrow_url(site_url: str, stream_id: int, stream: str, topic: str) -> str:
    """The topic's link in the Zulip web app, encoded as Zulip itself encodes it."""
    channel = f"{stream_id}-{_encode_hash_component(stream.replace(' ', '-'))}"
    return f"{site_url}/#narrow/stream/{channel}/topic/{_encode_hash_component(topic)}"


def _encode_hash_component(text: str) -> str:
    encoded = urllib.parse.quote(text, safe="*")
    return "".join(_HASH_REPLACEMENTS.get(c, c) for c in encoded)
