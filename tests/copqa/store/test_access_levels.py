"""Access levels in the store: every search filtered inside, by what the reader may read."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from copqa.access import (
    GUEST,
    MAINTAINER,
    MAINTAINERS,
    MEMBERS,
    PUBLIC,
    Reader,
    known,
    parse_level,
    stricter,
)
from copqa.community import COMMUNITY_TABLES
from copqa.errors import ConfigError
from copqa.models import Document, Post, SearchFilter
from copqa.store import SourceRecord, backup, restore
from copqa.store.keyword_index import KeywordIndex
from copqa.store.store import Store
from tests.support.files import write_files

# One distinctive sentence per level; each question below is answered by one of them only.
TEXTS = {
    PUBLIC: "The community garden's compost bins are turned every Saturday morning.",
    MEMBERS: "The members' workshop door code changes on the first Monday of each month.",
    MAINTAINERS: "The hosting bill for the forum is paid from the treasurer's card in March.",
    "group:core": "The core team's salary review for the coordinator happens in September.",
}
QUESTIONS = {
    PUBLIC: "When are the compost bins turned?",
    MEMBERS: "When does the workshop door code change?",
    MAINTAINERS: "Who pays the forum hosting bill?",
    "group:core": "When is the coordinator's salary review?",
}
CORE_MEMBER = Reader("kara", "member", frozenset({"core"}))
MEMBER = Reader("bob", "member")
READERS = {
    "guest": (GUEST, {PUBLIC}),
    "member": (MEMBER, {PUBLIC, MEMBERS}),
    "core member": (CORE_MEMBER, {PUBLIC, MEMBERS, "group:core"}),
    "maintainer": (MAINTAINER, set(TEXTS)),
}


def _levelled_store(pipeline, store: Store, tmp_path: Path) -> dict[str, str]:
    """A store with one file per level; returns each level's source id."""
    sources = {}
    for n, level in enumerate((PUBLIC, MEMBERS, MAINTAINERS)):
        folder = write_files(tmp_path / f"level-{n}", {f"note-{n}.md": TEXTS[level]})
        pipeline.ingest([folder], access=level)
        sources[level] = next(s.id for s in store.sources() if s.locator.endswith(f"note-{n}.md"))
    thread = Document(
        "core-thread", "slack", "Salary review", channel="core", access="group:core",
        readers=(("U1", "Kara"),),
        posts=(Post("p1", "U1", "Kara", TEXTS["group:core"], 1_700_000_000),),
    )  # fmt: skip
    source = SourceRecord("core-source", "slack", str(tmp_path / "slack"), "", PUBLIC)
    pipeline.write([(source, thread)])
    sources["group:core"] = source.id
    return sources


def _found(store: Store, embedder, reader: Reader, question: str) -> set[str]:
    """The levels of the passages dense and keyword search find for `question` as `reader`."""
    where = SearchFilter(levels=reader.levels)
    dense = store.search(embedder.embed_query(question), 10, where)
    keyword = store.chunks(store.keyword_index().search(question, 10, where.levels))
    return {h.chunk.access for h in [*dense, *keyword]}


@pytest.mark.parametrize("who", list(READERS))
def test_each_reader_finds_what_they_may_read_and_nothing_else(
    who, pipeline, store, embedder, tmp_path
):
    _levelled_store(pipeline, store, tmp_path)
    reader, allowed = READERS[who]
    for level, question in QUESTIONS.items():
        found = _found(store, embedder, reader, question)
        assert found <= allowed, f"{who} found {found - allowed} asking {question!r}"
        # The search goes on to what may be read: the right passage is among the finds.
        assert (level in found) == (level in allowed), (who, level, found)


def test_set_access_narrows_and_widens_every_copy(pipeline, store, embedder, tmp_path):
    sources = _levelled_store(pipeline, store, tmp_path)
    question = QUESTIONS[PUBLIC]
    assert PUBLIC in _found(store, embedder, GUEST, question)
    assert store.set_access(sources[PUBLIC], MAINTAINERS) == 1
    assert PUBLIC not in _found(store, embedder, GUEST, question)
    assert PUBLIC not in _found(store, embedder, MEMBER, question)
    # The vectors' own copy of the level moved too: Chroma alone, without the catalog's check.
    moved = {c.id for b in store.iter_chunks() for c in b if c.source_id == sources[PUBLIC]}
    vector = embedder.embed_query(question)
    assert not {cid for cid, _ in store._vectors.query(vector, 10, SearchFilter())} & moved
    assert store.source(sources[PUBLIC]).access == MAINTAINERS
    assert store.set_access(sources[PUBLIC], PUBLIC) == 1
    assert PUBLIC in _found(store, embedder, GUEST, question)


def test_a_source_level_never_opens_what_its_format_keeps_to_a_group(
    pipeline, store, embedder, tmp_path
):
    sources = _levelled_store(pipeline, store, tmp_path)
    question = QUESTIONS["group:core"]
    store.set_access(sources["group:core"], MEMBERS)
    assert "group:core" not in _found(store, embedder, MEMBER, question)
    assert "group:core" in _found(store, embedder, CORE_MEMBER, question)
    store.set_access(sources["group:core"], MAINTAINERS)  # narrower than the group: wins
    assert _found(store, embedder, CORE_MEMBER, question) <= {PUBLIC, MEMBERS}
    assert MAINTAINERS in _found(store, embedder, MAINTAINER, question)


def test_a_passage_without_a_level_is_for_maintainers_only(pipeline, store, embedder, tmp_path):
    _levelled_store(pipeline, store, tmp_path)
    [public] = [c for b in store.iter_chunks() for c in b if c.access == PUBLIC]
    unplaced = dataclasses.replace(public, id="older:0", document_id="older", access="")
    store.append_copies([unplaced], embedder.embed([public.text]))
    vector = embedder.embed_query(QUESTIONS[PUBLIC])
    assert "older:0" not in {h.chunk.id for h in store.search(vector, 10, SearchFilter())}
    keyword = store.keyword_index().search(QUESTIONS[PUBLIC], 10, GUEST.levels)
    assert "older:0" not in {cid for cid, _ in keyword}
    assert "older:0" in {h.chunk.id for h in store.search(vector, 10, SearchFilter(levels=None))}


def test_a_dropped_member_leaves_the_group(pipeline, store, tmp_path):
    source = SourceRecord("core-source", "slack", str(tmp_path / "slack"), "", PUBLIC)
    posts = (Post("p1", "U1", "Kara", "The review is in September.", 1_700_000_000),)
    listed = Document(
        "t1", "slack", "Review", access="group:core", readers=(("U1", "Kara"), ("U2", "Lee")),
        posts=posts,
    )  # fmt: skip
    pipeline.write([(source, listed)])
    assert store.groups_of({"slack:U2"}, set()) == {"core"}
    assert store.groups_of(set(), {"Lee"}) == {"core"}
    pipeline.write([(source, dataclasses.replace(listed, readers=(("U1", "Kara"),)))])
    assert store.groups_of({"slack:U2"}, {"Lee"}) == frozenset()
    assert store.groups_of({"slack:U1"}, set()) == {"core"}
    store.delete_source(source.id)
    assert store.group_members() == []


def test_the_keyword_index_keeps_each_chunks_level_through_a_save(tmp_path):
    index = KeywordIndex.build(
        [("a:0", "compost bins turned on saturday", PUBLIC),
         ("b:0", "compost heap secret recipe", MEMBERS)],
        generation=3,
    )  # fmt: skip
    index.save(tmp_path / "keyword")
    loaded = KeywordIndex.load(tmp_path / "keyword")
    assert loaded is not None
    assert [cid for cid, _ in loaded.search("compost", 5)] == ["a:0"]
    assert {cid for cid, _ in loaded.search("compost", 5, (PUBLIC, MEMBERS))} == {"a:0", "b:0"}
    # A word only a private passage holds is as rare to a guest as one nobody wrote.
    assert loaded.rarity("recipe")["recip"] == loaded.rarity("zeppelin")["zeppelin"]
    assert loaded.rarity("recipe", None)["recip"] < loaded.rarity("zeppelin", None)["zeppelin"]


@pytest.mark.parametrize(
    ("first", "second", "stricter_one"),
    [
        (PUBLIC, MEMBERS, MEMBERS),
        (MEMBERS, "group:a", "group:a"),
        ("group:a", MAINTAINERS, MAINTAINERS),
        ("group:a", "group:b", MAINTAINERS),
        (PUBLIC, "", MAINTAINERS),
        ("nonsense", PUBLIC, MAINTAINERS),
    ],
)
def test_the_stricter_level_lets_fewer_people_read(first, second, stricter_one):
    assert stricter(first, second) == stricter(second, first) == stricter_one


def test_levels_as_written_are_checked():
    assert parse_level(" Members ") == MEMBERS
    assert parse_level("group: core ") == "group:core"
    for wrong in ("", "everyone", "group:", "private"):
        with pytest.raises(ConfigError, match="access level"):
            parse_level(wrong)
    assert known("") == known("admins") == MAINTAINERS
    assert GUEST.levels == (PUBLIC,) and MAINTAINER.levels is None


def test_a_backup_restores_every_level_and_group(pipeline, store, embedder, tmp_path):
    _levelled_store(pipeline, store, tmp_path)
    pipeline.write(
        [(SourceRecord("more", "slack", str(tmp_path / "more"), "", PUBLIC), Document(
            "t2", "slack", "Rota", access="group:core", readers=(("U2", "Lee"),),
            posts=(Post("p2", "U2", "Lee", "The rota changes in May.", 1_700_000_000),),
        ))]
    )  # fmt: skip
    before = {who: {q: _found(store, embedder, r, q) for q in QUESTIONS.values()}
              for who, (r, _) in READERS.items()}  # fmt: skip
    backup(store, tmp_path / "backup", COMMUNITY_TABLES)
    restored = Store(tmp_path / "restored", embedder.identity, embedder.dimension)
    try:
        restore(restored, tmp_path / "backup", COMMUNITY_TABLES)
        for who, (reader, _) in READERS.items():
            for question in QUESTIONS.values():
                assert _found(restored, embedder, reader, question) == before[who][question]
        # The vectors were made again from the catalog: their own levels filter too.
        vector = embedder.embed_query(QUESTIONS[MEMBERS])
        guest = {cid for cid, _ in restored._vectors.query(vector, 20, SearchFilter())}
        assert {c.access for c in restored.chunks_by_id(guest).values()} == {PUBLIC}
        assert restored.group_members() == store.group_members()
        assert restored.groups_of({"slack:U2"}, set()) == {"core"}
    finally:
        restored.close()
