"""Stack Exchange: a site's data dump, one thread per question.

A dump folder holds `Posts.xml` (questions, `PostTypeId` 1, and answers, 2, with HTML
bodies), `Comments.xml` (plain-text comments on either) and `Users.xml` (display names).
The files are read as streams with `iterparse`, since full-site dumps run to gigabytes.

A thread's posts come in a fixed order: the question, then its comments; then its
answers, the accepted one first and the rest by score (highest first, ties by date and
id), each followed by its comments. Comments go by date, ties by id. Tag wikis and other
post types are not threads and are left out.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.discussions.export_files import opening_line
from ingest.loaders.documents.html import html_to_text

_POSTS = "Posts.xml"
_COMMENTS = "Comments.xml"
_USERS = "Users.xml"
_QUESTION = "1"
_ANSWER = "2"
_COMMUNITY_USER = "-1"  # the site's own bot account
_POST_ID = re.compile(r"-?[0-9]+")  # what int() reads back: not "--5", nor "²"
_SITE = re.compile(
    r"\b(?:[a-z0-9-]+\.)*(?:stackexchange\.com|stackoverflow\.com|superuser\.com"
    r"|serverfault\.com|askubuntu\.com|mathoverflow\.net|stackapps\.com)\b",
    re.IGNORECASE,
)

Row = dict[str, str]


@dataclass(frozen=True)
class _Dump:
    """The rows of one dump that threads are built from."""

    questions: dict[str, Row]
    answers: dict[str, list[Row]]  # by question id
    comments: dict[str, list[Row]]  # by post id
    users: dict[str, str]  # display name by user id


class StackExchangeDumpLoader:
    """A Stack Exchange data dump folder (the one holding `Posts.xml`)."""

    kind = "stackexchange"

    def __init__(self, site_url: str = "") -> None:
        """Create a loader.

        Args:
            site_url: the site's address (e.g. ``https://bicycles.stackexchange.com``), used
                to link every post. When empty it is derived from a site name in the dump
                folder's name or its `SOURCE` file; without one posts have no URL.
        """
        self.site_url = site_url.rstrip("/")

    def detect(self, path: Path) -> bool:
        try:
            return (path / _POSTS).is_file()
        except OSError:
            return False

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        posts_file = path / _POSTS
        if not posts_file.is_file():
            yield LoadFailure(str(posts_file), f"missing: a Stack Exchange dump needs {_POSTS}")
            return
        failures: list[LoadFailure] = []
        dump = _read_dump(path, failures)
        yield from failures
        site_url = self.site_url or _dump_site_url(path)
        builder = _ThreadBuilder(self.kind, site_url, dump)
        for question_id in sorted(dump.questions, key=int):
            document = builder.build(dump.questions[question_id], str(posts_file))
            if document is not None:
                yield document
        users_file = path / _USERS
        if builder.unresolved and not users_file.is_file():
            yield LoadFailure(
                str(users_file),
                f"missing: {len(builder.unresolved)} author(s) could not be named"
                " and are shown as user<id>",
            )


class _ThreadBuilder:
    """Turns a question and what hangs off it into one `Document`."""

    def __init__(self, kind: str, site_url: str, dump: _Dump) -> None:
        self.kind = kind
        self.site_url = site_url
        self.site = urllib.parse.urlsplit(site_url).netloc.lower()
        self.dump = dump
        self.unresolved: set[str] = set()  # user ids with no display name anywhere

    def build(self, question: Row, path: str) -> Document | None:
        qid = question["Id"]
        accepted_id = question.get("AcceptedAnswerId")
        answers = sorted(
            self.dump.answers.get(qid, ()),
            key=lambda a: (a["Id"] != accepted_id, -(_int(a.get("Score")) or 0), _date_key(a)),
        )
        posts: list[Post] = []
        for row in (question, *answers):
            post = self._post(row, qid, accepted_id)
            if post is not None:
                posts.append(post)
            for comment_row in sorted(self.dump.comments.get(row["Id"], ()), key=_date_key):
                comment = self._comment(comment_row, qid, row["Id"])
                if comment is not None:
                    posts.append(comment)
        if not posts:
            return None
        return Document(
            id=stable_id(self.kind, self.site, "", qid),
            kind=self.kind,
            title=question.get("Title") or opening_line(posts[0].text),
            path=path,
            url=f"{self.site_url}/q/{qid}" if self.site_url else "",
            channel=self.site,
            author=posts[0].author_name,
            created_at=posts[0].created_at,
            posts=tuple(posts),
        )

    def _post(self, row: Row, qid: str, accepted_id: str | None) -> Post | None:
        text = html_to_text(row.get("Body", ""))
        if not text:
            return None
        post_id = row["Id"]
        is_question = post_id == qid
        author_id, author_name = self._author(row.get("OwnerUserId"), row.get("OwnerDisplayName"))
        link = "q" if is_question else "a"
        return Post(
            id=stable_id(self.kind, self.site, post_id),
            author_id=author_id,
            author_name=author_name,
            text=text,
            created_at=_epoch(row.get("CreationDate")),
            url=f"{self.site_url}/{link}/{post_id}" if self.site_url else "",
            reply_to=None if is_question else stable_id(self.kind, self.site, qid),
            is_bot=row.get("OwnerUserId") == _COMMUNITY_USER,
            accepted=post_id == accepted_id,
            score=_int(row.get("Score")),
        )

    def _comment(self, row: Row, qid: str, post_id: str) -> Post | None:
        text = row.get("Text", "").strip()  # comments are plain text with Markdown links
        if not text:
            return None
        comment_id = row["Id"]
        author_id, author_name = self._author(row.get("UserId"), row.get("UserDisplayName"))
        url = f"{self.site_url}/questions/{qid}#comment{comment_id}_{post_id}"
        return Post(
            # Comment ids are a sequence apart from post ids: keep the two from colliding.
            id=stable_id(self.kind, self.site, "comment", comment_id),
            author_id=author_id,
            author_name=author_name,
            text=text,
            created_at=_epoch(row.get("CreationDate")),
            url=url if self.site_url else "",
            reply_to=stable_id(self.kind, self.site, post_id),
            is_bot=row.get("UserId") == _COMMUNITY_USER,
            score=_int(row.get("Score")),
        )

    def _author(self, user_id: str | None, display_name: str | None) -> tuple[str, str]:
        """(author_id, author_name): Users.xml's name, else the name the row carries.

        Deleted accounts have no user id, only the name the row kept; a user id with no
        name anywhere is shown as `user<id>`, as Stack Exchange shows deleted users.
        """
        if not user_id:
            return display_name or "", display_name or ""
        name = self.dump.users.get(user_id) or display_name
        if not name:
            self.unresolved.add(user_id)
        return user_id, name or f"user{user_id}"


def _read_dump(folder: Path, failures: list[LoadFailure]) -> _Dump:
    users: dict[str, str] = {}
    if (folder / _USERS).is_file():
        for row in _rows(folder / _USERS, failures):
            if row.get("Id") and row.get("DisplayName"):
                users[row["Id"]] = row["DisplayName"]
    comments: dict[str, list[Row]] = defaultdict(list)
    if (folder / _COMMENTS).is_file():
        for row in _rows(folder / _COMMENTS, failures):
            if row.get("Id") and row.get("PostId"):
                comments[row["PostId"]].append(row)
    questions: dict[str, Row] = {}
    answers: dict[str, list[Row]] = defaultdict(list)
    for row in _rows(folder / _POSTS, failures):
        if not _POST_ID.fullmatch(row.get("Id", "")):
            continue
        if row.get("PostTypeId") == _QUESTION:
            questions[row["Id"]] = row
        elif row.get("PostTypeId") == _ANSWER and row.get("ParentId"):
            answers[row["ParentId"]].append(row)
    return _Dump(questions, answers, comments, users)


def _rows(path: Path, failures: list[LoadFailure]) -> Iterator[Row]:
    """The attributes of each `<row>` of a dump file, streamed.

    A parse error ends the file: the rows before it are kept and a failure is recorded.
    """
    try:
        events = ET.iterparse(path, events=("start", "end"))
        _, root = next(events)
        for event, element in events:
            if event == "end" and element.tag == "row":
                yield dict(element.attrib)
                root.clear()  # drop the rows already read, so memory stays flat
    except ET.ParseError as exc:
        failures.append(LoadFailure(str(path), f"malformed XML ({exc}); rows after it skipped"))
    except (LookupError, ValueError) as exc:  # an encoding expat cannot read ("utf-b", EUC-JP)
        failures.append(LoadFailure(str(path), f"unreadable XML encoding: {exc}"))
    except OSError as exc:
        failures.append(LoadFailure(str(path), f"unreadable: {exc.strerror or exc}"))


def _dump_site_url(folder: Path) -> str:
    """`https://<site>` when the folder's name or its SOURCE file names the site, else ""."""
    # Dumps unpack into a folder named after the site (bicycles.stackexchange.com).
    texts = [folder.resolve().name]
    with contextlib.suppress(OSError):  # SOURCE is optional
        texts.append((folder / "SOURCE").read_text(encoding="utf-8", errors="replace")[:4096])
    for text in texts:
        if match := _SITE.search(text):
            return f"https://{match.group(0).lower()}"
    return ""


def _date_key(row: Row) -> tuple[str, int]:
    # ISO dates of one fixed format sort as strings.
    return row.get("CreationDate", ""), _int(row.get("Id")) or 0


def _epoch(value: str | None) -> int | None:
    """Epoch seconds of a dump date; dump dates are UTC without a zone."""
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
