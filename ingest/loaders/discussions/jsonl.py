"""Generic JSON Lines: one post or passage per line, optionally grouped into threads.

Each line is an object with ``id`` (or BEIR's ``_id``) and ``text``, and optionally
``title``, ``author``, ``url``, ``created_at`` (epoch seconds or ISO 8601) and
``thread_id``. Lines sharing a ``thread_id`` form one thread, in ``created_at`` order
(an undated line stays after the line before it in the file); a line without one is a
thread of its own, keyed by its id, so an opening post whose id the replies name as
their ``thread_id`` opens their thread, and a BEIR ``corpus.jsonl`` (``_id``,
``title``, ``text``) loads one document per passage. A line whose text is blank is
skipped; a malformed line is reported as ``<file>:<line>``.

Ids come from the file's own ids: ``Document.id`` is
``stable_id("jsonl", <dataset>, <thread_id or id>)`` (see `jsonl_document_id`) and
``Post.id`` is ``stable_id("jsonl", <dataset>, "post", <id>)`` (so a one-line thread's
post and document ids differ). The dataset is the file's stem, or its folder's name for
BEIR's generic ``corpus.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.discussions.export_files import loads_json, opening_line

_SUFFIX = ".jsonl"
_BEIR_CORPUS = "corpus.jsonl"
_BEIR_QUERIES = "queries.jsonl"
_HEAD_BYTES = 1 << 20
_MAX_LINE_FAILURES = 20
# Epoch values above this are milliseconds (it is the year 5138 in seconds).
_MILLISECONDS_FROM = 10**11


@dataclass(frozen=True)
class _Line:
    number: int
    key: str
    thread: str
    text: str
    title: str
    author: str
    url: str
    created_at: int | None


class JsonlLoader:
    """A ``.jsonl`` file of posts or passages, each line with ``id``/``_id`` and ``text``.

    Args:
        dataset: The name ids are scoped by; by default the file's stem, or for a
            BEIR ``corpus.jsonl`` the folder holding it. Also used as the channel.
    """

    kind = "jsonl"

    def __init__(self, dataset: str = "") -> None:
        self.dataset = dataset

    def detect(self, path: Path) -> bool:
        """True for a ``.jsonl`` file whose first line is an object with text and an id.

        BEIR's ``queries.jsonl`` has the same shape, but its lines are questions, not
        knowledge: it is not detected when a ``corpus.jsonl`` sits beside it.
        """
        try:
            if not path.is_file() or path.suffix.lower() != _SUFFIX:
                return False
            if path.name == _BEIR_QUERIES and (path.parent / _BEIR_CORPUS).is_file():
                return False
            row = loads_json(_first_line(path))
        except (OSError, ValueError):
            return False
        return isinstance(row, dict) and "text" in row and ("id" in row or "_id" in row)

    def dataset_of(self, path: Path) -> str:
        """The name the ids of `path`'s documents are scoped by."""
        if self.dataset:
            return self.dataset
        if path.name == _BEIR_CORPUS and path.resolve().parent.name:
            return path.resolve().parent.name
        return path.stem

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        """Yield one `Document` per thread (or per line without a ``thread_id``)."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            yield LoadFailure(str(path), f"unreadable: {exc.strerror or exc}")
            return
        dataset = self.dataset_of(path)
        threads: dict[str, list[_Line]] = {}
        seen: set[str] = set()
        failures = 0
        for number, data in enumerate(raw.splitlines(), start=1):
            if not data.strip():
                continue
            try:
                line = _parse_line(data, number)
                if line.key in seen:
                    raise ValueError(f"duplicate id {line.key!r}")
            except ValueError as exc:
                failures += 1
                if failures <= _MAX_LINE_FAILURES:
                    yield LoadFailure(f"{path}:{number}", str(exc))
                continue
            seen.add(line.key)
            if line.text:
                threads.setdefault(line.thread, []).append(line)
        if failures > _MAX_LINE_FAILURES:
            more = failures - _MAX_LINE_FAILURES
            yield LoadFailure(str(path), f"{more} more malformed lines ({failures} in all)")
        for key, lines in threads.items():
            yield self._document(path, dataset, key, lines)

    def _document(self, path: Path, dataset: str, key: str, lines: list[_Line]) -> Document:
        order = _posting_order(lines)
        lines = sorted(lines, key=lambda line: order[line.number])
        posts = tuple(
            Post(
                id=stable_id(self.kind, dataset, "post", line.key),
                author_id=line.author,
                author_name=line.author,
                text=line.text,
                created_at=line.created_at,
                url=line.url,
            )
            for line in lines
        )
        first = lines[0]
        title = next((line.title for line in lines if line.title), "")
        return Document(
            id=jsonl_document_id(dataset, key),
            kind=self.kind,
            title=title or opening_line(first.text),
            path=str(path),
            url=first.url,
            channel=dataset,
            author=first.author,
            created_at=first.created_at,
            posts=posts,
        )


def jsonl_document_id(dataset: str, key: str) -> str:
    """The `Document.id` of thread `key` (or of a line `key` without thread) in `dataset`.

    Evaluation uses it to map a BEIR ``corpus-id`` to the document retrieved for it.
    """
    return stable_id(JsonlLoader.kind, dataset, key)


def _first_line(path: Path) -> bytes:
    """The first non-blank line, cut at a size no object header needs."""
    with path.open("rb") as handle:
        while line := handle.readline(_HEAD_BYTES):
            if line.strip():
                return line
    return b""


def _parse_line(data: bytes, number: int) -> _Line:
    """One line as a post; ValueError (with a one-line reason) when it cannot be one."""
    try:
        row = loads_json(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start + 1})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON: {exc.msg} (column {exc.colno})") from exc
    except ValueError as exc:
        raise ValueError(f"malformed JSON: {exc}") from exc
    if not isinstance(row, dict):
        raise ValueError(f"a JSON {type(row).__name__}, not an object")
    key = _scalar(row.get("id", row.get("_id")))
    if not key:
        raise ValueError("no 'id' or '_id'")
    text = row.get("text")
    if not isinstance(text, str):
        raise ValueError("no 'text' string")
    return _Line(
        number=number,
        key=key,
        thread=_scalar(row.get("thread_id")) or key,
        text=text.strip(),
        title=_scalar(row.get("title")),
        author=_scalar(row.get("author")),
        url=_scalar(row.get("url")),
        created_at=_epoch(row.get("created_at")),
    )


def _scalar(value: Any) -> str:
    """A string, number or missing value as text ("" for anything else)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()


def _epoch(value: Any) -> int | None:
    """Epoch seconds (or milliseconds) or an ISO 8601 string as epoch seconds; else None."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if abs(value) >= _MILLISECONDS_FROM else value
            date = datetime.fromtimestamp(seconds, UTC)  # rejects what no date can be
        elif isinstance(value, str):
            date = datetime.fromisoformat(value.strip())
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return int(date.timestamp())


def _posting_order(lines: list[_Line]) -> dict[int, tuple[int, int]]:
    """Sort keys by line number: the date, or for an undated line the date before it."""
    keys = {}
    last = -(2**63)
    for line in lines:
        last = line.created_at if line.created_at is not None else last
        keys[line.number] = (last, line.number)
    return keys
