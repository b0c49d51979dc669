"""Incremental ingestion into a real Chroma store on disk with the real model."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from copqa.embedding import embedding_text
from copqa.errors import ModelMismatchError
from copqa.models import Document, Post, Section
from copqa.store.store import Store
from ingest.chunking import Chunker
from ingest.loaders.discussions.zulip import ZulipArchiveLoader
from ingest.loaders.documents.text import TextLoader
from ingest.pipeline import IngestPipeline, IngestProgress
from ingest.sources import SourceFinder
from tests.support.files import write_files

GUIDE = """# Laser cutter guide

## Materials
Never cut PVC or vinyl on the laser: it releases chlorine gas that corrodes the optics
and harms people. Acrylic, plywood up to 6 mm and cardboard are fine.

## Focus
Set the focus height with the 5 mm acrylic gauge before every job.
"""

ROTA = "The woodshop dust collector bags are emptied every Friday by the woodshop steward."

BOOKING = (
    "<html><head><title>Tool booking</title></head><body><h1>Booking</h1>"
    "<p>Book the laser cutter at least two days ahead, for two hours at most.</p></body></html>"
)


@pytest.fixture
def community(tmp_path: Path, shared_data: Path) -> Path:
    folder = write_files(
        tmp_path / "community",
        {"guide.md": GUIDE, "rota.txt": ROTA, "booking.html": BOOKING, "notes/LICENSE": "x"},
    )
    shutil.copy(shared_data / "pdfs/bad_input/password-example.pdf", folder / "locked.pdf")
    shutil.copy(shared_data / "pdfs/scanned_no_text/skew.pdf", folder / "scan.pdf")
    shutil.copy(shared_data / "pdfs/text_layer/scotus-transcript-p1.pdf", folder / "transcript.pdf")
    return folder


def assert_consistent(store: Store) -> None:
    """Every catalog chunk has a vector and every vector a catalog chunk."""
    assert store.vector_ids() == store.chunk_ids()


def test_first_ingest_adds_files_and_names_failures(pipeline, store, community: Path) -> None:
    report = pipeline.ingest([community])
    assert report.added == 4
    assert sorted(Path(f.path).name for f in report.failed) == ["locked.pdf", "scan.pdf"]
    assert report.chunks == store.counts().chunks > 0
    assert_consistent(store)


def test_reingest_adds_nothing(pipeline, store, community: Path) -> None:
    pipeline.ingest([community])
    before = store.chunk_ids()
    report = pipeline.ingest([community])
    assert (report.added, report.updated, report.unchanged, report.chunks) == (0, 0, 4, 0)
    assert store.chunk_ids() == before


def test_changed_file_replaces_its_chunks(pipeline, store, embedder, community: Path) -> None:
    pipeline.ingest([community])
    (community / "guide.md").write_text("# Laser cutter guide\n\nOnly plywood now, 3 mm.\n")
    report = pipeline.ingest([community])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 3)
    assert_consistent(store)
    hits = store.search(embedder.embed_query("Which plywood thickness?"), 10)
    guide = [h.chunk for h in hits if h.chunk.path.endswith("guide.md")]
    assert [c.text for c in guide] == ["# Laser cutter guide\n\nOnly plywood now, 3 mm."]


def test_prune_forgets_deleted_files(pipeline, store, community: Path) -> None:
    pipeline.ingest([community])
    (community / "rota.txt").unlink()
    assert pipeline.ingest([community]).removed == 0  # without --prune nothing is forgotten
    report = pipeline.ingest([community], prune=True)
    assert report.removed == 1
    assert not any(c.endswith("rota.txt") for c in _paths(store))
    assert_consistent(store)


def test_store_reopens_from_disk(pipeline, store, settings, embedder, community: Path) -> None:
    pipeline.ingest([community])
    counts = store.counts()
    store.close()
    reopened = Store(settings.home, embedder.identity, embedder.dimension)
    assert reopened.counts() == counts
    top = reopened.search(embedder.embed_query("what gas does PVC release when laser cut?"), 1)
    assert top[0].chunk.path.endswith("guide.md")
    assert top[0].chunk.heading == "Laser cutter guide / Materials"
    reopened.close()


def test_another_model_is_refused(store, settings, embedder) -> None:
    store.close()
    with pytest.raises(ModelMismatchError, match="built with the embedding model"):
        Store(settings.home, "another-model@000", embedder.dimension)


def test_reconcile_removes_orphan_vectors(pipeline, store, community: Path) -> None:
    pipeline.ingest([community])
    store._vectors.upsert(["ghost:0"], np.ones((1, 384), dtype=np.float32) / 384**0.5, [{"k": 1}])
    assert store.reconcile() == 1
    assert_consistent(store)


def test_uploader_is_credited(pipeline, store, community: Path) -> None:
    pipeline.ingest([community / "rota.txt"], uploader="maria")
    (chunk,) = store.chunks_by_id(store.chunk_ids()).values()
    assert chunk.author == "maria"
    assert store.counts().members == 1


def test_chunks_fit_the_model(embedder, shared_data: Path, settings) -> None:
    from ingest.loaders.documents.pdf import PdfLoader

    chunker = Chunker(embedder.tokenize, settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    path = shared_data / "pdfs/text_layer/federal-register-2020-17221.pdf"
    (document,) = PdfLoader().load(path)
    chunks = chunker.chunk(document, "s")
    assert len(chunks) > 20
    longest = max(len(embedder.tokenize(embedding_text(c))) for c in chunks)
    assert longest + 2 <= embedder.max_tokens  # [CLS] and [SEP] included
    assert {c.page for c in chunks} == set(range(1, 16))


def test_threads_are_cut_into_windows_of_posts(embedder) -> None:
    posts = tuple(
        Post(id=f"p{i}", author_id=f"u{i % 3}", author_name=f"Member {i % 3}",
             text=f"Reply number {i} about resin printers " + "detail " * 40, created_at=1_700_000_000 + i)
        for i in range(8)
    )  # fmt: skip
    thread = Document(id="t1", kind="slack", title="Resin printers", channel="#3d", posts=posts)
    chunks = Chunker(embedder.tokenize, 200, 30).chunk(thread, "s")
    assert len(chunks) > 1
    covered = [pid for c in chunks for pid in c.post_ids]
    assert set(covered) == {p.id for p in posts}
    assert all(c.thread_id == "t1" and c.channel == "#3d" for c in chunks)
    assert chunks[0].text.startswith("Member 0 (2023-11-14): Reply number 0")


def test_near_empty_posts_are_not_indexed(embedder) -> None:
    posts = (
        Post(
            id="a", author_id="u1", author_name="Ann", text="How do I level the bed of the Kraken?"
        ),
        Post(id="b", author_id="u2", author_name="Bo", text="+1"),
    )
    thread = Document(id="t", kind="slack", title="bed", posts=posts)
    (chunk,) = Chunker(embedder.tokenize, 200, 30).chunk(thread, "s")
    assert chunk.post_ids == ("a",)


def test_documents_without_words_make_no_chunks(embedder) -> None:
    document = Document(id="d", kind="text", title="t", sections=(Section(text="--- ---"),))
    assert Chunker(embedder.tokenize, 200, 30).chunk(document, "s") == []


def _paths(store: Store) -> list[str]:
    return [c.path for c in store.chunks_by_id(store.chunk_ids()).values()]


def test_pasted_logs_are_indexed_only_in_part(embedder) -> None:
    log = "ERROR sprout[1234]: SIP 408 timeout on trunk 3 " * 400  # ~19k characters
    posts = (
        Post(
            id="q",
            author_id="u1",
            author_name="Ann",
            text="Calls fail after an hour, log below:\n" + log,
        ),
        Post(
            id="a",
            author_id="u2",
            author_name="Bo",
            text="Raise the session timer to 1800 seconds.",
        ),
    )
    thread = Document(id="t", kind="mbox", title="calls fail", posts=posts)
    chunks = Chunker(embedder.tokenize, 200, 30, max_post_chars=2000).chunk(thread, "s")
    indexed = sum(len(c.text) for c in chunks if c.post_ids == ("q",))
    assert 2000 <= indexed < 2600
    assert chunks[-1].text.endswith("Raise the session timer to 1800 seconds.")


class _CountingLoader(TextLoader):
    loads = 0

    def load(self, path):
        type(self).loads += 1
        return super().load(path)


def test_unchanged_files_are_not_even_read_again(store, embedder, settings, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "notes", {"a.txt": ROTA, "b.txt": "The laser is booked in 2 hour slots."}
    )
    chunker = Chunker(embedder.tokenize, 200, 30)
    pipeline = IngestPipeline(store, embedder, chunker, SourceFinder([_CountingLoader()]))
    pipeline.ingest([folder])
    assert _CountingLoader.loads == 2
    again = pipeline.ingest([folder])
    assert (_CountingLoader.loads, again.unchanged) == (2, 2)
    (folder / "b.txt").write_text("The laser is booked in 3 hour slots now.")
    changed = pipeline.ingest([folder])
    assert (_CountingLoader.loads, changed.updated, changed.unchanged) == (3, 1, 1)


def test_a_catalog_from_an_earlier_release_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    from copqa.store.catalog import Catalog
    from copqa.store.database import SQLiteDatabase

    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE sources (id TEXT PRIMARY KEY, kind TEXT NOT NULL, locator TEXT NOT NULL, "
            "uploader TEXT NOT NULL DEFAULT '', added_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)"
        )
        old.execute("INSERT INTO sources VALUES ('s', 'text', '/x', '', 1, 1)")
    old.close()
    database = SQLiteDatabase(path)
    assert Catalog(database).fingerprint("s") == ""
    database.close()


def test_deleting_nothing_leaves_the_keyword_index_current(
    pipeline, store, community: Path
) -> None:
    pipeline.ingest([community])
    generation = store.generation()
    store.delete_documents([])
    assert store.generation() == generation


def test_progress_has_a_total_and_only_grows(pipeline, community: Path) -> None:
    steps: list[IngestProgress] = []
    report = pipeline.ingest([community], progress=steps.append)
    readable = [p for p in community.rglob("*") if p.is_file() and p.suffix]  # not LICENSE
    total = sum(p.stat().st_size for p in readable)
    assert len(steps) >= len(readable)  # once per source at least
    assert {s.total_bytes for s in steps} == {total}
    for earlier, later in itertools.pairwise(steps):
        assert earlier.read_bytes <= later.read_bytes
        assert earlier.documents <= later.documents
        assert earlier.chunks <= later.chunks
    assert (steps[-1].read_bytes, steps[-1].documents) == (total, report.added)
    assert steps[-1].chunks == report.chunks > 0

    again: list[IngestProgress] = []
    pipeline.ingest([community], progress=again.append)
    assert (again[-1].read_bytes, again[-1].documents, again[-1].chunks) == (total, 0, 0)


def test_progress_moves_within_one_export(store, embedder, tmp_path: Path) -> None:
    json_dir = tmp_path / "zulip" / "zulip_json"
    (json_dir / "7-help").mkdir(parents=True)
    topics = [f"topic {n}" for n in range(4)]
    index = {"streams": {"help": {"id": 7, "topic_data": {t: {} for t in topics}}}}
    (json_dir / "stream_index.json").write_text(json.dumps(index))
    for n, topic in enumerate(topics):
        message = {"id": n, "sender_full_name": "Ada", "timestamp": 1700000000 + n}
        message["content"] = f"<p>The laser cutter needs booking {n} days ahead.</p>"
        (json_dir / "7-help" / f"{topic.replace(' ', '.20')}.json").write_text(
            json.dumps([message])
        )
    pipeline = IngestPipeline(
        store,
        embedder,
        Chunker(embedder.tokenize, 200, 30),
        SourceFinder([ZulipArchiveLoader()]),
        embed_batch=1,  # a write per topic, so progress is told inside the export
    )
    steps: list[IngestProgress] = []
    pipeline.ingest([tmp_path / "zulip"], progress=steps.append)
    total = steps[-1].total_bytes
    assert total == sum(p.stat().st_size for p in json_dir.rglob("*.json"))
    inside = [s.read_bytes for s in steps if 0 < s.read_bytes < total]
    assert len(inside) >= 3 and inside == sorted(inside)
    assert steps[-1].read_bytes == total and steps[-1].documents == 4


class _BrokenAfterOne(TextLoader):
    """A `.txt` loader with a bug on files named `bad*`: it raises after one document."""

    def load(self, path: Path):
        yield from super().load(path)
        if path.name.startswith("bad"):
            raise KeyError("'ts'")


def test_a_loader_that_raises_costs_only_its_own_source(store, embedder, tmp_path) -> None:
    chunker = Chunker(embedder.tokenize, 200, 20, 4000)
    pipeline = IngestPipeline(store, embedder, chunker, SourceFinder([_BrokenAfterOne()]))
    files = {
        f"{name}.txt": f"The {name} paragraph about kilns." for name in ("alpha", "bad", "zeta")
    }
    report = pipeline.ingest([write_files(tmp_path / "docs", files)])

    [failure] = report.failed
    assert failure.path.endswith("bad.txt")
    assert failure.error == "the text loader failed (KeyError: \"'ts'\")"
    assert report.added == 3  # the document read before the bug is kept, and both others
    assert store.vector_ids() == store.chunk_ids()
    # Its source keeps no fingerprint, so the next run reads it again and says so again.
    assert [f.path for f in pipeline.ingest([tmp_path / "docs"]).failed] == [failure.path]
