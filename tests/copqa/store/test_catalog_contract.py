"""The store contract: every catalog (embedded SQLite, PostgreSQL) passes the same tests.

The sample community is ingested once per catalog with the real model; each test then gets
its own copy (a SQLite backup, or a PostgreSQL database made from the first as a template,
plus the same vectors in a fresh embedded Chroma), so tests may change what they are given.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest

from copqa.community import COMMUNITY_TABLES, CommunityRecords
from copqa.community.accounts import Account, Accounts
from copqa.community.members import MemberDirectory
from copqa.errors import TooManyAttemptsError
from copqa.settings import CatalogSettings, Settings
from copqa.store.chunk_metadata import flat_metadata
from copqa.store.store import Store
from ingest.factory import build_pipeline
from ingest.forgetting import forget_member
from ingest.pipeline import IngestPipeline, IngestReport
from tests.support.files import write_files
from tests.support.paths import REPO
from tests.support.postgres_server import fresh_database

SAMPLE = [REPO / "sample" / "docs", REPO / "sample" / "slack"]
CATALOGS = ["sqlite", "postgresql"]
KILN = "# Kiln\n\nThe ceramics kiln is fired on Thursdays; load it by Wednesday evening."


@dataclass(frozen=True)
class Template:
    """The sample community ingested once into one kind of catalog."""

    home: Path
    catalog: CatalogSettings
    report: IngestReport
    vectors: dict[str, np.ndarray]
    metadata: dict[str, dict]


@dataclass
class Ingested:
    """One test's own copy of the ingested sample: settings, store, records and pipeline."""

    template: Template
    settings: Settings
    store: Store
    records: CommunityRecords
    pipeline: IngestPipeline


@pytest.fixture(scope="module")
def templates(request, embedder, tmp_path_factory) -> Callable[[str], Template]:
    """The template of a catalog kind, ingested the first time a test asks for it."""
    made: dict[str, Template] = {}

    def template(kind: str) -> Template:
        if kind not in made:
            home = tmp_path_factory.mktemp(f"template-{kind}")
            catalog = CatalogSettings()
            if kind == "postgresql":
                catalog = CatalogSettings(
                    url=fresh_database(request.getfixturevalue("postgres_server"))
                )
            settings = Settings(home=home, catalog=catalog)
            store = Store(home, embedder.identity, embedder.dimension, catalog=catalog)
            records = CommunityRecords.open(settings)
            try:
                report = build_pipeline(settings, store, embedder, records.activity).ingest(SAMPLE)
                ids = sorted(store.vector_ids())
                chunks = store.chunks_by_id(ids)
                vectors = store.stored_vectors(ids)
            finally:
                records.close()
                store.close()  # a PostgreSQL template may have no open sessions
            metadata = {cid: flat_metadata(chunks[cid]) for cid in ids}
            made[kind] = Template(home, catalog, report, vectors, metadata)
        return made[kind]

    return template


def clone(template: Template, home: Path, embedder) -> Ingested:
    """A fresh copy of the template's catalog and vectors under `home`."""
    home.mkdir(parents=True)
    if template.catalog.url:
        server, name = template.catalog.url.rsplit("/", 1)
        copy = f"copqa_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {copy} TEMPLATE {name}")
        catalog = CatalogSettings(url=f"{server}/{copy}")
    else:
        with (
            sqlite3.connect(template.home / "catalog.sqlite3") as source,
            sqlite3.connect(home / "catalog.sqlite3") as target,
        ):
            source.backup(target)
        source.close()
        target.close()
        catalog = CatalogSettings()
    settings = Settings(home=home, catalog=catalog)
    store = Store(home, embedder.identity, embedder.dimension, catalog=catalog)
    ids = sorted(template.vectors)
    store._vectors.upsert(
        ids, np.stack([template.vectors[i] for i in ids]), [template.metadata[i] for i in ids]
    )
    records = CommunityRecords.open(settings)
    pipeline = build_pipeline(settings, store, embedder, records.activity)
    return Ingested(template, settings, store, records, pipeline)


@pytest.fixture(params=CATALOGS)
def community(request, templates, embedder, tmp_path: Path) -> Iterator[Ingested]:
    copied = clone(templates(request.param), tmp_path / "home", embedder)
    yield copied
    copied.records.close()
    copied.store.close()


def assert_consistent(store: Store) -> None:
    """Every catalog chunk has a vector, every vector a catalog chunk, and BM25 knows them all."""
    ids = store.chunk_ids()
    assert store.vector_ids() == ids
    index = store.keyword_index()
    assert index.generation == store.generation()
    assert {cid for cid, _ in index.search("the", 10_000)} <= ids


# --- the contract: the same assertions for every catalog ---------------------------------
def test_the_sample_is_ingested_whole(community: Ingested) -> None:
    store = community.store
    report = community.template.report
    counts = store.counts()
    assert not report.failed, report.failed
    assert report.added == counts.documents >= 30
    assert report.chunks == counts.chunks >= 80
    assert counts.sources == 7 and counts.posts >= 70 and counts.members >= 10
    assert_consistent(store)
    assert store.generation() >= 1
    (run,) = community.records.activity.runs()
    assert run.finished_at is not None and run.report and run.report["added"] == report.added


def test_both_catalogs_hold_the_same_community(templates, embedder, tmp_path: Path) -> None:
    sqlite, postgres = (clone(templates(kind), tmp_path / kind, embedder) for kind in CATALOGS)
    try:
        assert sqlite.store.counts() == postgres.store.counts()
        ids = sqlite.store.chunk_ids()
        assert postgres.store.chunk_ids() == ids
        assert postgres.store.chunks_by_id(ids) == sqlite.store.chunks_by_id(ids)
        members = sorted(sqlite.store.members(), key=lambda m: (m.author_id, m.kind))
        assert sorted(postgres.store.members(), key=lambda m: (m.author_id, m.kind)) == members
        library = [entry_contents(e) for e in sqlite.store.library()]
        assert [entry_contents(e) for e in postgres.store.library()] == library
        assert postgres.store.open_questions(5) == sqlite.store.open_questions(5)
        discussions = sqlite.store.discussion_ids()
        assert postgres.store.discussion_ids() == discussions
        assert postgres.store.stored_document(discussions[0]) == sqlite.store.stored_document(
            discussions[0]
        )
    finally:
        for copied in (sqlite, postgres):
            copied.records.close()
            copied.store.close()


def entry_contents(entry) -> tuple:
    """A library entry without the moment of ingestion, which differs between the two runs."""
    return (entry.source_id, entry.kind, entry.locator, entry.channels, entry.documents,
            entry.chunks, entry.title, entry.created_at)  # fmt: skip


def test_reingesting_the_unchanged_sample_adds_nothing(community: Ingested) -> None:
    before = community.store.chunk_ids()
    generation = community.store.generation()
    report = community.pipeline.ingest(SAMPLE)
    assert (report.added, report.updated, report.removed, report.chunks) == (0, 0, 0, 0)
    assert community.store.chunk_ids() == before
    assert community.store.generation() == generation


def test_a_changed_file_replaces_its_chunks(community: Ingested, tmp_path: Path) -> None:
    store = community.store
    folder = write_files(tmp_path / "notes", {"kiln.md": KILN})
    assert community.pipeline.ingest([folder]).added == 1
    generation = store.generation()
    (folder / "kiln.md").write_text("# Kiln\n\nThe kiln is now fired on Mondays.\n")
    report = community.pipeline.ingest([folder])
    assert (report.added, report.updated) == (0, 1)
    assert store.generation() > generation
    kiln = [c for c in store.chunks_by_id(store.chunk_ids()).values()
            if c.path.endswith("kiln.md")]  # fmt: skip
    assert [c.text for c in kiln] == ["# Kiln\n\nThe kiln is now fired on Mondays."]
    assert kiln[0].id in {cid for cid, _ in store.keyword_index().search("kiln mondays", 3)}
    assert_consistent(store)


def test_an_upload_is_read_back_with_its_uploader(community: Ingested, tmp_path: Path) -> None:
    store = community.store
    spoof = "---\nauthor: cleo\n---\n" + KILN
    folder = write_files(tmp_path / "uploads", {"kiln.md": spoof})
    assert community.pipeline.ingest([folder], uploader="bob").added == 1

    def kiln() -> list[tuple[str, str]]:
        chunks = store.chunks_by_id(store.chunk_ids()).values()
        return [(c.author, c.uploader) for c in chunks if c.path.endswith("kiln.md")]

    assert kiln() == [("cleo", "bob")]
    # A store written before chunks kept their uploader: the source's row still says who.
    with store._catalog.transaction():
        store._database.execute(
            "UPDATE chunks SET metadata = REPLACE(metadata, ?, ?)", (', "uploader": "bob"', "")
        )
    left = store._database.execute("SELECT id FROM chunks WHERE metadata LIKE ?", ("%uploader%",))
    assert list(left) == []
    assert kiln() == [("cleo", "bob")]


def test_deleting_a_source_removes_everything_it_held(community: Ingested) -> None:
    store = community.store
    entry = next(e for e in store.library() if e.kind == "slack")
    before, generation = store.counts(), store.generation()
    store.delete_source(entry.source_id)
    after = store.counts()
    assert after.sources == before.sources - 1
    assert after.documents == before.documents - entry.documents
    assert after.chunks == before.chunks - entry.chunks
    assert store.generation() == generation + 1
    assert all(e.source_id != entry.source_id for e in store.library())
    assert_consistent(store)


def test_a_forgotten_member_leaves_and_stays_out(community: Ingested) -> None:
    store = community.store
    directory = MemberDirectory(store.members(), {})
    member = next(m for m in directory.members() if m.posts >= 3)
    keys = directory.identities(member.name)
    texts = [
        p.text
        for d in store._catalog.documents_by_authors(keys)
        for p in store.stored_document(d)[1].posts
        if p.author_name == member.name
    ]
    assert len(texts) == member.posts
    report = forget_member(store, community.pipeline, keys)
    assert report.posts_removed == member.posts
    assert store.forgotten() >= keys
    assert store._catalog.documents_by_authors(keys) == []
    again = community.pipeline.ingest(SAMPLE)
    assert (again.added, again.updated) == (0, 0)
    stored = " ".join(c.text for c in store.chunks_by_id(store.chunk_ids()).values())
    assert not any(text[:60] in stored for text in texts)
    assert member.name not in {m.name for m in MemberDirectory(store.members(), {}).members()}
    assert_consistent(store)


def test_reconcile_drops_orphan_vectors(community: Ingested) -> None:
    store = community.store
    store._vectors.upsert(["ghost:0"], np.ones((1, 384), dtype=np.float32) / 384**0.5, [{"k": 1}])
    assert store.reconcile() == 1
    assert_consistent(store)


def test_an_interrupted_transaction_leaves_nothing(community: Ingested) -> None:
    catalog = community.store._catalog  # the catalog's own contract
    counts, generation = catalog.counts(), catalog.generation()
    with pytest.raises(RuntimeError), catalog.transaction():
        catalog.delete_source(catalog.sources()[0].id)
        catalog.bump_generation()
        raise RuntimeError("crash mid-write")
    assert (catalog.counts(), catalog.generation()) == (counts, generation)


def test_library_members_and_open_questions(community: Ingested) -> None:
    catalog = community.store._catalog  # the catalog's own contract
    library = catalog.library(None)
    assert len(library) == catalog.counts().sources
    assert sum(e.chunks for e in library) == catalog.counts().chunks
    slack = [e for e in library if e.kind == "slack"]
    assert slack and {"#general", "#laser-cutter"} <= {
        c if c.startswith("#") else f"#{c}" for e in slack for c in e.channels
    }
    questions = catalog.open_questions(3, ("public",))
    assert len(questions) == 3 and all(q.endswith("?") for q in questions)
    members = catalog.members()
    assert len({m.author_id for m in members}) >= 10
    assert all(m.channels and m.posts >= 1 for m in members)


def test_every_change_of_chunks_moves_the_generation(community: Ingested) -> None:
    store = community.store
    generation = store.generation()
    assert store.keyword_index().generation == generation
    store.delete_documents([])
    assert store.generation() == generation
    document = store.discussion_ids()[0]
    store.delete_documents([document])
    assert store.generation() == generation + 1
    assert store.keyword_index().generation == generation + 1
    assert_consistent(store)


def test_the_activity_log(community: Ingested) -> None:
    log = community.records.activity
    run = log.start_run(["/somewhere"])
    assert log.runs()[0].id == run and log.runs()[0].finished_at is None
    log.finish_run(run, {"added": 2})
    assert log.runs()[0].report == {"added": 2}
    answered = log.record_question("bob", "How do I book the laser?", True, 0.9, ["Booking"])
    unsure = log.record_question("anonymous:1", "Who fixes the kiln?", True, 0.5, ["Kiln"])
    unanswered = log.record_question("anonymous:2", "What is the Wi-Fi password?", False, 0.1, [])
    assert len({answered, unsure, unanswered}) == 3
    log.record_feedback(answered, 1, "", "bob")
    log.record_feedback(answered, -1, " it was the old price ", "bob")
    assert [(f.rating, f.comment) for f in log.feedback()] == [(-1, "it was the old price")]
    gaps = {q.id: q.reason for q in log.gaps(low_confidence=0.6)}
    assert gaps == {answered: "rated unhelpful", unsure: "low confidence", unanswered: "unanswered"}
    assert next(q for q in log.gaps(0.6) if q.id == unsure).confidence == 0.5
    log.record_evaluation("cases", "cases.jsonl", "/reports", {"recall@5": 0.8125})
    assert log.evaluations()[0].metrics == {"recall@5": 0.8125}


def test_accounts(community: Ingested) -> None:
    accounts = Accounts(community.store._database, clock=lambda: 1000.0)
    accounts.add("Ada", "member", "correct horse")
    accounts.add("ADA", "maintainer", "second password")
    accounts.add("bo", "member", "battery staple")
    assert accounts.list() == [Account("ADA", "maintainer"), Account("bo", "member")]
    assert accounts.get("ada") == Account("ADA", "maintainer")
    assert accounts.verify("ada", "second password") == Account("ADA", "maintainer")
    assert accounts.verify("ada", "correct horse") is None
    for _ in range(5):
        assert accounts.verify("bo", "wrong guess") is None
    with pytest.raises(TooManyAttemptsError):
        accounts.verify("BO", "battery staple")
    assert accounts.remove("Ada") and not accounts.remove("ada")
    assert accounts.list() == [Account("bo", "member")]


def test_a_backup_restores_into_the_other_kind_of_catalog(
    community: Ingested, request, embedder, tmp_path: Path
) -> None:
    from copqa.store.maintenance import backup, restore

    store = community.store
    community.records.accounts.add("ada", "maintainer", "correct horse battery")
    community.records.activity.record_question("guest", "How hot is the kiln?", False, 0.1, [])
    manifest = backup(store, tmp_path / "backup", COMMUNITY_TABLES)
    assert manifest.rows["chunks"] == manifest.vectors == len(store.chunk_ids())

    other = CatalogSettings()  # PostgreSQL's backup goes into SQLite, and SQLite's into PostgreSQL
    if not community.template.catalog.url:
        other = CatalogSettings(url=fresh_database(request.getfixturevalue("postgres_server")))
    home = tmp_path / "restored"
    restored = Store(home, embedder.identity, embedder.dimension, catalog=other)
    records = CommunityRecords.open(Settings(home=home, catalog=other))
    try:
        restore(restored, tmp_path / "backup", COMMUNITY_TABLES)
        assert_consistent(restored)
        assert restored.counts() == store.counts()
        assert restored.library() == store.library()
        assert [a.name for a in records.accounts.list()] == ["ada"]
        assert [q.question for q in records.activity.gaps(0.6)] == ["How hot is the kiln?"]
        assert records.activity.record_question("guest", "A new question", False, 0.1, []) > 1
    finally:
        records.close()
        restored.close()
