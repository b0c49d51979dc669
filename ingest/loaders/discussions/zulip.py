"""Zulip: a zulip-archive JSON export, one thread per stream topic.

The layout written by zulip-archive (https://github.com/zulip/zulip-archive)::

    zulip_json/stream_index.json           {"streams": {name: {"id", "topic_data": {topic: ...}}}}
    zulip_json/<id>-<stream>/<topic>.json  [{"id", "sender_full_name", "timestamp", "content"}]
    stream/<id>-<stream>/topic/<topic>.html  the HTML archive, whose post links name the realm

Folder and file names are dot-encoded ("3D.20plotting" for "3D plotting"). The loader
decodes them rather than re-encoding topic names, because zulip-archive versions have
encoded them differently; stream folders are matched by the stream id they start with.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.discussions.export_files import opening_line, read_json_file
from ingest.loaders.documents.html import QuoteMarkup, html_to_text

_INDEX = "stream_index.json"
_JSON_DIR = "zulip_json"
_NARROW_LINK = re.compile(rb'href="(https?://[^"#]+?)/?#narrow/')
_HASH_REPLACEMENTS = {"%": ".", "(": ".28", ")": ".29", ".": ".2E"}
_PAGE_HEAD_BYTES = 65_536  # the first post's link comes early in a topic page
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
            stream_id = stream["id"]
            folder = folders.get(stream_id)
            found: set[str] = set()
            for topic_file in sorted(folder.glob("*.json")) if folder else ():
                topic = urllib.parse.unquote(topic_file.stem.replace(".", "%"))
                found.add(topic)
                try:
                    messages = _read_messages(topic_file)
                except ValueError as exc:
                    yield LoadFailure(str(topic_file), str(exc))
                    continue
                narrow = _narrow_url(site_url, stream_id, name, topic) if site_url else ""
                messages.sort(
                    key=lambda m: (_number(m.get("timestamp")) or 0, _number(m.get("id")) or 0)
                )
                posts = [p for m in messages if (p := self._post(m, site, narrow)) is not None]
                if not posts:
                    continue
                yield Document(
                    id=stable_id(self.kind, site, stream_id, topic),
                    kind=self.kind,
                    title=topic or opening_line(posts[0].text),
                    path=str(topic_file),
                    url=narrow,
                    channel=f"#{name}",
                    author=posts[0].author_name,
                    created_at=posts[0].created_at,
                    posts=tuple(posts),
                )
            for topic in sorted(set(stream["topic_data"]) - found):
                yield LoadFailure(
                    str(folder or json_dir),
                    f"stream {name!r}: topic {topic!r} is listed in {_INDEX} but has no file",
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
