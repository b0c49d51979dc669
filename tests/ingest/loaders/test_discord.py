"""DiscordExportLoader on the ETHGlobal DiscordChatExporter export, and on broken exports."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from copqa.models import Document, LoadFailure
from ingest.loaders.discussions.discord import DiscordExportLoader

CHANNEL_URL = "https://discord.com/channels/554623348622098432/1319401418532065280"


@pytest.fixture(scope="module")
def export(shared_data: Path) -> Path:
    return shared_data / "discord-ethglobal"


@pytest.fixture(scope="module")
def loaded(export: Path) -> list[Document | LoadFailure]:
    return list(DiscordExportLoader().load(export))


@pytest.fixture(scope="module")
def documents(loaded: list[Document | LoadFailure]) -> list[Document]:
    return [d for d in loaded if isinstance(d, Document)]


def _thread(documents: list[Document], root_id: str) -> Document:
    return next(d for d in documents if d.url == f"{CHANNEL_URL}/{root_id}")


def _documents(items: list[Document | LoadFailure]) -> list[Document]:
    return [d for d in items if isinstance(d, Document)]


def _failures(items: list[Document | LoadFailure]) -> list[LoadFailure]:
    return [f for f in items if isinstance(f, LoadFailure)]


def test_reply_chains_become_threads(loaded: list[Document | LoadFailure]) -> None:
    documents = _documents(loaded)
    posts = [p for d in documents for p in d.posts]
    print(f"discord: {len(documents)} threads, {len(posts)} posts")
    assert _failures(loaded) == []
    assert len(documents) == 292
    assert Counter(len(d.posts) for d in documents)[1] == 189
    # 520 messages - 2 "Started a thread." events - 3 attachment-only - 4 empty forwards.
    assert len(posts) == 511
    assert len({p.id for p in posts}) == 511
    assert len({d.id for d in documents}) == 292
    # 223 replies; 7 have no post to point to: 1 answers a message outside the export,
    # 5 answer attachment-only or forwarded messages, 1 is attachment-only itself.
    assert sum(p.reply_to is not None for p in posts) == 216
    assert len({p.author_id for p in posts}) == 154
    assert {(d.kind, d.channel) for d in documents} == {
        ("discord", "ETHGlobal #👾agentic-ethereum-chat")
    }


def test_known_thread(export: Path, documents: list[Document]) -> None:
    thread = _thread(documents, "1336256010041688184")
    assert thread.author == "javi"
    assert thread.created_at == 1738658659
    assert thread.title == (
        ":fire: spicy take: the hackathon prizes should go to the judges: Imagine having…"
    )
    assert thread.path == str(next(export.glob("*.json")))
    assert len(thread.posts) == 10
    root, reply = thread.posts[:2]
    assert root.url == thread.url
    assert (reply.author_name, reply.text) == ("lyrx65", "Good job for an AI agent. 😀")
    assert reply.url == f"{CHANNEL_URL}/1336256278921740330"
    assert reply.reply_to == root.id
    assert reply.created_at == 1738658723


def test_replies_to_replies_join_the_root_thread(documents: list[Document]) -> None:
    thread = _thread(documents, "1333521042349625345")
    assert [p.author_name for p in thread.posts] == [
        "Prateush Sharma",
        "Pascal | ETHGlobal",
        "Prateush Sharma",
    ]
    first, second, third = thread.posts
    assert (second.reply_to, third.reply_to) == (first.id, second.id)


def test_nickname_is_the_author_name(documents: list[Document]) -> None:
    posts = [p for d in documents for p in d.posts]
    names = {p.author_name for p in posts if p.author_id == "720407640131240026"}
    assert names == {"Anna | ETHGlobal"}  # user name "awliang"
    assert not any(p.is_bot for p in posts)


def test_events_and_attachment_only_messages_are_left_out(documents: list[Document]) -> None:
    urls = {p.url for d in documents for p in d.posts}
    assert f"{CHANNEL_URL}/1322667734953099307" not in urls  # the banner image
    assert f"{CHANNEL_URL}/1334403910990827597" not in urls  # "Started a thread."
    assert not [p for d in documents for p in d.posts if p.text == "Started a thread."]


def test_reply_to_a_message_outside_the_export(documents: list[Document]) -> None:
    thread = _thread(documents, "1332690239591940096")
    assert [(p.author_name, p.text, p.reply_to) for p in thread.posts] == [
        ("Spydiecy", "oh has the building phase started ?", None)
    ]


def test_posts_are_chronological_and_ids_stable(export: Path, documents: list[Document]) -> None:
    for document in documents:
        times = [p.created_at for p in document.posts]
        assert None not in times
        assert times == sorted(times), document.url
    again = _documents(list(DiscordExportLoader().load(next(export.glob("*.json")))))
    assert again == documents


def test_detect(export: Path, shared_data: Path, tmp_path: Path) -> None:
    loader = DiscordExportLoader()
    assert loader.detect(export)
    assert loader.detect(next(export.glob("*.json")))
    assert not loader.detect(export / "SOURCE")
    assert not loader.detect(shared_data / "r-contributors" / "slack")
    assert not loader.detect(shared_data / "r-contributors" / "slack" / "users.json")
    assert not loader.detect(tmp_path / "missing.json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"channel": "x", "messages": []}))
    assert not loader.detect(other)


def _message(mid: str, content: str, **fields: object) -> dict[str, object]:
    author = {"id": "7", "name": "ada", "nickname": "Ada", "isBot": False}
    return {
        "id": mid,
        "type": "Default",
        "timestamp": f"2025-01-0{mid[0]}T10:00:00.5+00:00",
        "content": content,
        "author": author,
        **fields,
    }


def _export(messages: list[object]) -> dict[str, object]:
    return {
        "guild": {"id": "1", "name": "Guild"},
        "channel": {"id": "2", "name": "help"},
        "messages": messages,
    }


def test_synthetic_threads_events_and_bots(tmp_path: Path) -> None:
    bot = {"id": "9", "name": "helper", "nickname": None, "isBot": True}

    def reply(to: str) -> dict[str, object]:
        return {"type": "Reply", "reference": {"messageId": to, "channelId": "2"}}

    messages = [
        _message("10", "How do I deploy?"),
        _message("20", "", attachments=[{"fileName": "shot.png"}]),
        _message("30", "Use the CLI.", author=bot, **reply("10")),
        _message("40", "Thanks!", **reply("30")),
        _message("50", "Pinned a message.", type="ChannelPinnedMessage"),
        _message("60", "Joined the server.", type="GuildMemberJoin"),
        _message("70", "loop a", **reply("80")),
        _message("80", "loop b", **reply("70")),
        _message("90", "forwarded", reference={"messageId": "5", "channelId": "3"}),
        {"no": "id"},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_export(messages)))
    loaded = list(DiscordExportLoader().load(path))
    assert _failures(loaded) == [
        LoadFailure(str(path), "1 messages skipped: not an object with an id")
    ]
    threads = [[(p.author_name, p.text, p.is_bot) for p in d.posts] for d in _documents(loaded)]
    assert threads == [
        [
            ("Ada", "How do I deploy?", False),
            ("helper", "Use the CLI.", True),
            ("Ada", "Thanks!", False),
        ],
        [("Ada", "loop a", False), ("Ada", "loop b", False)],
        [("Ada", "forwarded", False)],
    ]
    first = _documents(loaded)[0]
    assert first.url == "https://discord.com/channels/1/2/10"
    assert first.channel == "Guild #help"
    assert first.created_at == 1735725600


def test_bad_files_are_named_and_the_rest_loads(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_export([_message("10", "hello")])))
    (tmp_path / "broken.json").write_text('{"guild": {"id": "1"}, "channel": ')
    (tmp_path / "latin1.json").write_bytes(b'{"guild": {"name": "caf\xe9"}}')
    (tmp_path / "other.json").write_text("[1, 2]")
    loader = DiscordExportLoader()
    assert loader.detect(tmp_path)
    loaded = list(loader.load(tmp_path))
    failures = {Path(f.path).name: f.error for f in _failures(loaded)}
    assert set(failures) == {"broken.json", "latin1.json", "other.json"}
    assert failures["broken.json"].startswith("malformed JSON")
    assert failures["latin1.json"].startswith("not UTF-8 text")
    assert failures["other.json"] == (
        "not a DiscordChatExporter export (no guild, channel, messages)"
    )
    assert [d.title for d in _documents(loaded)] == ["hello"]
