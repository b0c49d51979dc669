"""Discord channels exported by DiscordChatExporter (JSON): one document per thread.

A channel is one stream of messages; what ties them into conversations is the reply
(`reference.messageId`). A reply joins the thread of the message it answers, followed
up the chain to its root; a message that answers nothing and got no answer is a thread
of its own.

``Document.id`` is ``stable_id("discord", <guild id>, <channel id>, <root message id>)``
and ``Post.id`` is ``stable_id("discord", <guild id>, <message id>)``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.discussions.export_files import loads_json, opening_line

KIND = "discord"
_EXPORT_KEYS = tuple(re.compile(rf'"{key}"\s*:') for key in ("guild", "channel", "messages"))
# DiscordChatExporter writes `guild`, `channel` and the start of `messages` first.
_HEAD_BYTES = 64 * 1024
_MAX_PROBED_FILES = 20
# What people wrote; other types are events (joins, pins, calls, "started a thread"...).
_KNOWLEDGE_TYPES = frozenset({"Default", "Reply"})


class DiscordExportLoader:
    """Reads DiscordChatExporter JSON exports (a file, or a folder of them) into threads."""

    kind = KIND

    def detect(self, path: Path) -> bool:
        """A `.json` file, or a folder of them, whose top object has `guild`, `channel`
        and `messages`."""
        try:
            if path.is_dir():
                probed = sorted(path.glob("*.json"))[:_MAX_PROBED_FILES]
                return any(_looks_like_export(file) for file in probed)
            return path.suffix.lower() == ".json" and _looks_like_export(path)
        except OSError:
            return False

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        """Yield one document per thread of each exported channel, and each unreadable file."""
        try:
            files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        except OSError as exc:
            yield LoadFailure(str(path), f"unreadable folder: {exc}")
            return
        for file in files:
            yield from self._load_file(file)

    def _load_file(self, path: Path) -> Iterator[Document | LoadFailure]:
        try:
            data = loads_json(path.read_bytes())
        except OSError as exc:
            yield LoadFailure(str(path), f"unreadable: {exc}")
            return
        except UnicodeDecodeError as exc:
            yield LoadFailure(str(path), f"not UTF-8 text: {exc}")
            return
        except ValueError as exc:
            yield LoadFailure(str(path), f"malformed JSON: {exc}")
            return
        if not (
            isinstance(data, dict)
            and isinstance(data.get("guild"), dict)
            and isinstance(data.get("channel"), dict)
            and isinstance(data.get("messages"), list)
        ):
            yield LoadFailure(
                str(path), "not a DiscordChatExporter export (no guild, channel, messages)"
            )
            return
        messages = {
            m["id"]: m for m in data["messages"] if isinstance(m, dict) and _string(m, "id")
        }
        if skipped := len(data["messages"]) - len(messages):
            yield LoadFailure(str(path), f"{skipped} messages skipped: not an object with an id")
        channel = _Channel(data["guild"], data["channel"])
        parents = {mid: _parent(message, channel.id) for mid, message in messages.items()}
        threads: dict[str, list[str]] = defaultdict(list)
        for mid, root in _thread_roots(parents).items():
            threads[root].append(mid)
        for root in sorted(threads, key=_snowflake_order):
            members = sorted(threads[root], key=_snowflake_order)
            document = _thread(path, channel, root, members, messages, parents)
            if document is not None:
                yield document


class _Channel:
    def __init__(self, guild: Mapping[str, Any], channel: Mapping[str, Any]) -> None:
        self.guild_id = _string(guild, "id")
        self.id = _string(channel, "id")
        self.label = f"{_string(guild, 'name')} #{_string(channel, 'name')}".strip()

    def url(self, message_id: str) -> str:
        if not (self.guild_id and self.id):
            return ""
        return f"https://discord.com/channels/{self.guild_id}/{self.id}/{message_id}"

    def post_id(self, message_id: str) -> str:
        # Message ids (snowflakes) are unique across Discord; the guild names the site.
        return stable_id(KIND, self.guild_id, message_id)


def _thread(
    path: Path,
    channel: _Channel,
    root: str,
    members: list[str],
    messages: Mapping[str, Mapping[str, Any]],
    parents: Mapping[str, str],
) -> Document | None:
    texts = {mid: text for mid in members if (text := _text(messages[mid]))}
    if not texts:
        return None
    posts = tuple(
        _post(channel, messages[mid], text, parents[mid] if parents[mid] in texts else None)
        for mid, text in texts.items()
    )
    first = posts[0]
    return Document(
        id=stable_id(KIND, channel.guild_id, channel.id, root),
        kind=KIND,
        title=opening_line(first.text),
        path=str(path),
        url=channel.url(root),
        channel=channel.label,
        author=first.author_name,
        created_at=first.created_at,
        posts=posts,
    )


def _post(channel: _Channel, message: Mapping[str, Any], text: str, reply_to: str | None) -> Post:
    author = message.get("author")
    author = author if isinstance(author, dict) else {}
    author_id = _string(author, "id")
    return Post(
        id=channel.post_id(message["id"]),
        author_id=author_id,
        author_name=_string(author, "nickname").strip() or _string(author, "name") or author_id,
        text=text,
        created_at=_epoch(_string(message, "timestamp")),
        url=channel.url(message["id"]),
        reply_to=channel.post_id(reply_to) if reply_to else None,
        is_bot=author.get("isBot") is True,
    )


def _text(message: Mapping[str, Any]) -> str:
    """What the author wrote; attachments and embeds are not text, so they are left out."""
    if _string(message, "type") not in _KNOWLEDGE_TYPES:
        return ""
    return _string(message, "content").strip()


def _parent(message: Mapping[str, Any], channel_id: str) -> str:
    """The id of the message this one replies to in the same channel, else ""."""
    reference = message.get("reference")
    if not isinstance(reference, dict):
        return ""
    # A reference into another channel is a forward or a thread's starter, not a reply.
    if _string(reference, "channelId") not in ("", channel_id):
        return ""
    parent = _string(reference, "messageId")
    return parent if parent != message["id"] else ""


def _thread_roots(parents: Mapping[str, str]) -> dict[str, str]:
    """Each message's thread root: the first message up its reply chain, or the
    message that chain answers when the export does not hold it."""
    roots: dict[str, str] = {}
    for start in parents:
        chain: list[str] = []
        node = start
        while node in parents and node not in roots and node not in chain:
            chain.append(node)
            if not parents[node]:
                break
            node = parents[node]
        # Corrupt data could loop: the message where the loop closes becomes its root.
        root = roots.get(node, node)
        for member in chain:
            roots[member] = root
    return roots


def _looks_like_export(path: Path) -> bool:
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    return head.lstrip().startswith("{") and all(key.search(head) for key in _EXPORT_KEYS)


def _string(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def _snowflake_order(message_id: str) -> tuple[int, str]:
    # Snowflakes grow with time, so their order is the chronological one.
    # isdecimal and ASCII: "²".isdigit() is true, yet int() refuses it.
    return (int(message_id) if message_id.isascii() and message_id.isdecimal() else -1, message_id)


def _epoch(timestamp: str) -> int | None:
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
