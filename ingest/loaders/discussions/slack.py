"""Slack workspace exports: one document per thread, mrkdwn turned into plain text.

An export is a folder, or a `.zip` of it, holding `users.json` (members),
`channels.json` (channel ids and names) and one folder per channel of
`YYYY-MM-DD.json` day files. Replies carry their root's `thread_ts`, so a thread is
gathered across day files; a message nobody replied to is a thread of one post, since
a question is often answered in the channel rather than in a thread.

Ids come from the export, never from where it sits, so a folder and its zip agree:
``Document.id`` is ``stable_id("slack", <team id>, <channel>, <thread_ts>)`` and
``Post.id`` is ``stable_id("slack", <team id>, <channel>, "post", <ts>)``, where the
channel is its id, or its folder name when no listing (``channels.json``,
``groups.json``, ``mpims.json``, ``dms.json``) gives one.

Who may read a thread is what the export says of its channel (`Document.access`,
`Document.readers`):

- a public channel restricts nothing (`access == ""`): the source's level applies;
- a private channel (an entry of `groups.json`, or one `channels.json` marks
  `"is_private": true`) is the group of its entry's `members`: `access` is
  `group:#<channel>` and `readers` their (user id, name from `users.json`) pairs; an
  entry without a `members` list makes `maintainers`, as no member is known;
- group DMs (`mpims.json`) and DMs (`dms.json`) are left out, each reported as not
  ingested, unless a maintainer asks for them (`direct_messages`,
  `COPQA_INGEST__DIRECT_MESSAGES`): then each is the group of its entry's `members`, as a
  private channel is.

When a list of conversations (`channels.json`, `groups.json`, `mpims.json`, `dms.json`)
cannot be read, which folders are private is unknown: only the folders `channels.json`
lists as public are read, every other one is reported as left out.
"""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.archive import (
    ArchiveError,
    ExportFiles,
    UnsafeArchiveError,
    open_export,
    read_json,
)
from ingest.loaders.discussions.export_files import opening_line
from ingest.loaders.discussions.slack_workspace import SlackWorkspace, read_workspace

KIND = "slack"
_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_TS = re.compile(r"^(\d+)(?:\.(\d+))?$")
# An allow-list, not a block-list: Slack keeps adding housekeeping subtypes (joins,
# topics, pins, reminders, canvas and tab events, deleted-message tombstones...).
_KNOWLEDGE_SUBTYPES = frozenset(
    {None, "thread_broadcast", "me_message", "file_share", "bot_message"}
)


class SlackExportLoader:
    """Reads a Slack workspace export (a folder or a `.zip` of it) into thread documents.

    Args:
        workspace_url: The workspace's address, e.g. `https://myteam.slack.com`; when
            given, threads and posts link to Slack, otherwise their `url` is empty.
        direct_messages: Read DMs and group DMs too, each for its members only; when
            False (the default) they are left out and reported.
    """

    kind = KIND

    def __init__(self, workspace_url: str = "", direct_messages: bool = False) -> None:
        self.workspace_url = workspace_url.rstrip("/")
        self.direct_messages = direct_messages

    def detect(self, path: Path) -> bool:
        """A folder with `channels.json` or `users.json` and channel day files, or a zip
        holding `channels.json`."""
        try:
            if path.is_dir():
                has_lists = (path / "channels.json").is_file() or (path / "users.json").is_file()
                return has_lists and any(_has_day_files(child) for child in path.iterdir())
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    names = archive.namelist()
                return any(PurePosixPath(name).name == "channels.json" for name in names)
        except (OSError, zipfile.BadZipFile):
            pass
        return False

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        """Yield one document per thread, channel by channel, and each unreadable file."""
        try:
            export = open_export(path, marker="channels.json")
        except (ArchiveError, OSError) as exc:
            yield LoadFailure(str(path), f"cannot open Slack export: {exc}")
            return
        try:
            yield from self._load_export(export)
        except UnsafeArchiveError as exc:
            yield LoadFailure(str(path), f"refused: {exc}")
        finally:
            export.close()

    def _load_export(self, export: ExportFiles) -> Iterator[Document | LoadFailure]:
        workspace, failures = read_workspace(export)
        yield from failures
        day_files: dict[str, list[str]] = defaultdict(list)
        for name in export.names:
            folder, _, day = name.partition("/")
            # Only a channel folder's own day files: not canvases, nor __MACOSX copies.
            if _DAY_FILE.match(day):
                day_files[folder].append(name)
        for folder in sorted(day_files):
            refusal = workspace.refusal(folder, self.direct_messages)
            if refusal:
                yield LoadFailure(export.where(folder), refusal)
                continue
            yield from self._load_channel(export, workspace, folder, sorted(day_files[folder]))

    def _load_channel(
        self, export: ExportFiles, workspace: SlackWorkspace, folder: str, day_files: list[str]
    ) -> Iterator[Document | LoadFailure]:
        threads: dict[str, list[_Message]] = defaultdict(list)
        for name in day_files:
            messages, failure = read_json(export, name, list)
            if failure is not None:
                yield failure
            skipped = 0
            for raw in messages or ():
                message = _message(raw, name)
                if message is None:
                    skipped += 1
                else:
                    threads[message.thread_ts].append(message)
            if skipped:
                yield LoadFailure(
                    export.where(name), f"{skipped} messages skipped: no ts or thread_ts"
                )
        channel = _Channel(folder, workspace.channel_id(folder))
        for thread_ts in sorted(threads, key=_ts_order):
            document = self._thread(export, workspace, channel, thread_ts, threads[thread_ts])
            if document is not None:
                yield document

    def _thread(
        self,
        export: ExportFiles,
        workspace: SlackWorkspace,
        channel: _Channel,
        thread_ts: str,
        messages: list[_Message],
    ) -> Document | None:
        kept = [
            (message, post)
            for message in sorted(messages, key=lambda m: _ts_order(m.ts or m.thread_ts))
            if (post := self._post(workspace, channel, message)) is not None
        ]
        if not kept:
            return None
        root_id = _post_id(workspace, channel, thread_ts)
        posts = [post for _, post in kept]
        if posts[0].id == root_id:
            posts[1:] = [replace(post, reply_to=root_id) for post in posts[1:]]
        opening, first = kept[0]
        access, readers = workspace.access(channel.name)
        return Document(
            id=stable_id(KIND, workspace.team, channel.key, thread_ts),
            kind=KIND,
            title=opening_line(first.text),
            path=export.where(opening.day_file),
            url=self._url(channel, thread_ts, thread_ts),
            channel=f"#{channel.name}",
            author=first.author_name,
            created_at=first.created_at,
            posts=tuple(posts),
            access=access,
            readers=readers,
        )

    def _post(self, workspace: SlackWorkspace, channel: _Channel, message: _Message) -> Post | None:
        raw = message.raw
        subtype = raw.get("subtype")
        if not isinstance(subtype, str | None) or subtype not in _KNOWLEDGE_SUBTYPES:
            return None
        text = workspace.text(_string(raw, "text"))
        if not text:
            return None
        # A message that lost its ts is still placed, and linked, by its thread.
        ts = message.ts or message.thread_ts
        return Post(
            id=_post_id(workspace, channel, message.ts or _lost_ts_key(message)),
            author_id=_string(raw, "user") or _string(raw, "bot_id"),
            author_name=workspace.author_name(raw),
            text=text,
            created_at=_epoch(ts),
            url=self._url(channel, ts, message.thread_ts),
            is_bot=workspace.is_bot(raw),
        )

    def _url(self, channel: _Channel, ts: str, thread_ts: str) -> str:
        if not (self.workspace_url and channel.id):
            return ""
        url = f"{self.workspace_url}/archives/{channel.id}/p{ts.replace('.', '')}"
        if ts != thread_ts:
            url += f"?thread_ts={thread_ts}&cid={channel.id}"
        return url


@dataclass(frozen=True)
class _Channel:
    name: str  # its folder's
    id: str  # "" when no listing (channels.json, groups.json...) gives it

    @property
    def key(self) -> str:
        # The native id survives channel renames; the folder name is the fallback.
        return self.id or self.name


@dataclass(frozen=True)
class _Message:
    raw: Mapping[str, Any]
    ts: str  # "" when the export lost it
    thread_ts: str  # the thread root's ts; a message outside any thread roots its own
    day_file: str


def _message(raw: object, day_file: str) -> _Message | None:
    if not isinstance(raw, dict):
        return None
    ts, thread_ts = _string(raw, "ts"), _string(raw, "thread_ts")
    if not (ts or thread_ts):
        return None
    return _Message(raw, ts, thread_ts or ts, day_file)


def _post_id(workspace: SlackWorkspace, channel: _Channel, key: str) -> str:
    # A ts is unique within a channel only, hence the channel; "post" keeps a thread's
    # root post from sharing its document's id.
    return stable_id(KIND, workspace.team, channel.key, "post", key)


def _lost_ts_key(message: _Message) -> str:
    raw = message.raw
    return f"{message.thread_ts}/{_string(raw, 'client_msg_id') or _string(raw, 'text')}"


def _has_day_files(folder: Path) -> bool:
    return folder.is_dir() and any(_DAY_FILE.match(p.name) for p in folder.glob("*.json"))


def _string(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def _ts_order(ts: str) -> tuple[int, str, str]:
    match = _TS.match(ts)
    if match is None:
        return (-1, "", ts)
    return (int(match.group(1)), (match.group(2) or "").ljust(9, "0"), ts)


def _epoch(ts: str) -> int | None:
    match = _TS.match(ts)
    return int(match.group(1)) if match else None
