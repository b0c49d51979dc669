"""Private stays private, end to end, on slices of the real exports.

One store holds a Slack export with a private channel, a Zulip archive with an invite-only
stream, Discourse topics with a read-restricted category (each with its real members), a
members-only upload and a maintainers-only note. Random accounts ask random questions made
of the private threads' own words (hypothesis, fixed seed); nothing any answer shows may
come from a source that account cannot read, and the members of each private place find
its thread.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from copqa.access import GUEST, Reader
from copqa.assistant import Assistant
from copqa.community import Account, reader_for
from copqa.models import Answer, SearchFilter
from copqa.settings import Settings
from copqa.store.store import Store
from ingest.factory import build_pipeline
from tests.support.files import write_files
from tests.support.private_exports import (
    PrivateExport,
    private_discourse_export,
    private_slack_export,
    private_zulip_export,
)

CASES = 60
MEMBERS_NOTE = "The guild's members-only wiki password is rotated by the steward every quarter."
MAINTAINERS_NOTE = "The moderation rota for banning spam accounts lives in the steward's sheet."


@dataclass
class Community:
    store: Store
    assistant: Assistant
    exports: dict[str, PrivateExport]
    accounts: dict[str, Reader]
    # What each account may read, worked out here from who it is, not by `Reader`: the
    # test's own oracle, so a bug in the reader's levels cannot hide a leak.
    may_read: dict[str, set[str]]
    private_words: list[str]  # words of the private threads, for questions
    private_sentences: list[str]


def _account(name: str, role: str, store: Store) -> Reader:
    return reader_for(Account(name, role), store, {})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def community(shared_data, embedder, tmp_path_factory):
    root = tmp_path_factory.mktemp("private")
    settings = Settings(home=root / "home")
    store = Store(settings.home, embedder.identity, embedder.dimension)
    pipeline = build_pipeline(settings, store, embedder)
    exports = {
        "slack": private_slack_export(shared_data, root / "slack"),
        "zulip": private_zulip_export(shared_data, root / "zulip"),
        "discourse": private_discourse_export(shared_data, root / "discourse"),
    }
    for export in exports.values():
        assert not pipeline.ingest([export.folder]).failed
    notes = write_files(root / "notes", {"wiki.md": MEMBERS_NOTE, "rota.md": MAINTAINERS_NOTE})
    pipeline.ingest([notes / "wiki.md"], access="members", uploader="Bob Upload")
    pipeline.ingest([notes / "rota.md"], access="maintainers")
    accounts = {
        "guest": GUEST,
        "outsider": _account("Outsider Member", "member", store),
        "maintainer": _account("ada", "maintainer", store),
    }
    chunks = [c for batch in store.iter_chunks() for c in batch]
    levels = {c.access for c in chunks}
    may_read = {
        "guest": {"public"},
        "outsider": {"public", "members"},
        "maintainer": levels,
    }
    for kind, export in exports.items():
        name = export.members[0][1]
        accounts[f"{kind} member {name}"] = _account(name, "member", store)
        group = {level for level in levels if level.startswith(f"{export.level}@")}
        assert len(group) == 1, (export.level, levels)
        may_read[f"{kind} member {name}"] = {"public", "members", *group}
    assert levels == {"public", "members", "maintainers"} | {
        g for reads in may_read.values() for g in reads if g.startswith("group:")
    }
    private = [c for c in chunks if c.access != "public"]
    words = sorted({w for c in private for w in re.findall(r"[A-Za-z]{5,}", c.text)})
    sentences = sorted(
        {s.strip() for c in private for s in re.split(r"(?<=[.?!])\s+", c.text) if len(s) > 30}
    )
    assistant = Assistant.on_store(settings, embedder, store)
    yield Community(store, assistant, exports, accounts, may_read, words, sentences)
    store.close()


def _leaks(community: Community, who: str, answer: Answer) -> list[str]:
    """Everything of `answer` that comes from, or names, what `who` may not read."""
    allowed = community.may_read[who]
    hidden = [c for b in community.store.iter_chunks() for c in b if c.access not in allowed]
    hidden_docs = {c.document_id for c in hidden}
    shown = [*(c.chunk for c in answer.citations), *(p.chunk for p in answer.retrieved)]
    leaks = [f"passage {c.id} ({c.access})" for c in shown if c.document_id in hidden_docs]
    titles = {c.title for c in hidden if len(c.title) > 12} - {c.title for c in shown}
    places = {c.channel for c in hidden if c.channel} - {c.channel for c in shown}
    said = answer.answer + " ".join(e.why for e in answer.experts)
    leaks += [f"title {t!r}" for t in titles if t in said]
    leaks += [f"place {p!r}" for p in places if f"#{p.lstrip('#')}" in said]
    examples = community.store.open_questions(8, community.accounts[who].levels)
    leaks += [f"example {e!r}" for e in examples for c in hidden if c.title.startswith(e)]
    return leaks


@seed(16)
@settings(
    max_examples=CASES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_account_is_ever_shown_what_it_may_not_read(community, data):
    who = data.draw(st.sampled_from(sorted(community.accounts)), label="account")
    reader = community.accounts[who]
    question = data.draw(
        st.sampled_from(community.private_sentences)
        | st.lists(st.sampled_from(community.private_words), min_size=2, max_size=7).map(" ".join)
        | st.sampled_from([e.question for e in community.exports.values()]),
        label="question",
    )
    answer = community.assistant.ask(question, where=SearchFilter(levels=reader.levels))
    assert _leaks(community, who, answer) == [], (who, question)


@pytest.mark.parametrize("kind", ["slack", "zulip", "discourse"])
def test_a_private_places_members_find_its_thread_and_no_one_else_does(community, kind):
    export = community.exports[kind]
    thread = [c for b in community.store.iter_chunks() for c in b if c.title == export.thread]
    assert thread, export.thread
    for who, reader in community.accounts.items():
        answer = community.assistant.ask(export.question, where=SearchFilter(levels=reader.levels))
        found = {p.chunk.document_id for p in answer.retrieved}
        allowed = thread[0].access in community.may_read[who]
        assert allowed == (who == "maintainer" or who.startswith(kind)), who
        assert (thread[0].document_id in found) == allowed, (who, export.question)


def test_the_uploads_and_notes_keep_the_level_they_were_given(community):
    def finds(reader: Reader, question: str, words: str) -> bool:
        answer = community.assistant.ask(question, where=SearchFilter(levels=reader.levels))
        return any(words in p.chunk.text for p in answer.retrieved)

    wiki = ("Who rotates the members-only wiki password?", "wiki password is rotated")
    rota = ("Where is the moderation rota for spam accounts?", "moderation rota")
    accounts = community.accounts
    assert not finds(GUEST, *wiki) and finds(accounts["outsider"], *wiki)
    assert not finds(accounts["outsider"], *rota) and finds(accounts["maintainer"], *rota)


def test_a_member_dropped_from_the_channel_loses_its_threads(shared_data, embedder, tmp_path):
    settings = Settings(home=tmp_path / "home")
    store = Store(settings.home, embedder.identity, embedder.dimension)
    try:
        pipeline = build_pipeline(settings, store, embedder)
        export = private_slack_export(shared_data, tmp_path / "slack")
        pipeline.ingest([export.folder])
        member_id, name = next(m for m in export.members if m[1] == "Bettina Gruen")
        assistant = Assistant.on_store(settings, embedder, store)

        def sees_thread() -> bool:
            reader = _account(name, "member", store)
            answer = assistant.ask(export.question, where=SearchFilter(levels=reader.levels))
            return any(p.chunk.title == export.thread for p in answer.retrieved)

        assert sees_thread()
        groups = json.loads((export.folder / "groups.json").read_text())
        groups[0]["members"].remove(member_id)
        (export.folder / "groups.json").write_text(json.dumps(groups))
        report = pipeline.ingest([export.folder])
        assert report.updated == 4  # the channel's threads: their readers changed
        assert _account(name, "member", store).groups == frozenset()
        assert not sees_thread()
    finally:
        store.close()
        shutil.rmtree(tmp_path / "home", ignore_errors=True)
