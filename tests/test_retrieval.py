"""Dense, keyword and hybrid retrieval on a real store: exact terms, filters, diversity, freshness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from copqa.keyword_index import KeywordIndex
from copqa.models import Document, Post, Section
from copqa.retrieval import DenseRetriever, HybridRetriever, KeywordRetriever, SearchFilter
from copqa.store import Store
from tests.files import write_files

DOCS = {
    "build.md": "# Building R\n\nOn Windows, install Rtools44 and run make from the gnuwin folder.",
    "errors.md": "# Odd errors\n\nThe error R_CheckUserInterrupt undefined means your C code links an old header.",
    "meetups.md": "# Meetups\n\nThe contributors meet online every second Thursday of the month.",
    "translations.md": "# Translating\n\nMessages are translated with Weblate; ask in the translation channel.",
}


def thread(doc_id: str, channel: str, when: int, texts: list[str]) -> Document:
    posts = tuple(
        Post(
            id=f"{doc_id}-{i}",
            author_id=f"u{i}",
            author_name=f"Member {i}",
            text=t,
            created_at=when + i,
        )
        for i, t in enumerate(texts)
    )
    return Document(
        id=doc_id, kind="slack", title=texts[0][:40], channel=channel, created_at=when, posts=posts
    )


def test_keyword_search_finds_an_exact_identifier(pipeline, store, tmp_path: Path) -> None:
    pipeline.ingest([write_files(tmp_path / "docs", DOCS)])
    hits = KeywordRetriever(store).retrieve("R_CheckUserInterrupt", 3)
    assert hits[0].chunk.path.endswith("errors.md")


def test_hybrid_ranks_exact_terms_and_meaning(pipeline, store, embedder, tmp_path: Path) -> None:
    pipeline.ingest([write_files(tmp_path / "docs", DOCS)])
    hybrid = HybridRetriever(store, embedder)
    assert hybrid.retrieve("R_CheckUserInterrupt undefined", 1)[0].chunk.path.endswith("errors.md")
    top = hybrid.retrieve("when do contributors get together?", 1)[0]
    assert top.chunk.path.endswith("meetups.md")
    assert 0 < top.score <= 1  # a cosine similarity, whatever the fusion


def test_keyword_index_follows_the_catalog_and_persists(
    pipeline, store, settings, embedder, tmp_path
) -> None:
    folder = write_files(tmp_path / "docs", DOCS)
    pipeline.ingest([folder])
    built = store.keyword_index()
    assert built.generation == store.catalog.generation()
    (folder / "errors.md").unlink()
    pipeline.ingest([folder], prune=True)
    assert KeywordRetriever(store).retrieve("R_CheckUserInterrupt", 3) == []
    saved = KeywordIndex.load(settings.home / "keyword")
    assert saved is not None and saved.generation == store.catalog.generation()
    reopened = Store(settings.home, embedder.identity, embedder.dimension)
    assert reopened.keyword_index().search("Weblate", 1)
    reopened.close()


# A save killed while it writes: the folder it made, half filled, then SIGKILL.
KILLED_SAVE = """
import sys
from pathlib import Path
from copqa.keyword_index import staging_folder
staging = staging_folder(Path(sys.argv[1]))
(staging / "params.index.json").write_text('{"half": ')
print(staging, flush=True)
sys.stdin.read()
"""


def test_the_next_start_removes_what_a_killed_save_left(
    pipeline, store, settings, embedder, tmp_path
) -> None:
    pipeline.ingest([write_files(tmp_path / "docs", DOCS)])
    store.keyword_index()  # the real index, saved in home/keyword
    index_files = sorted(p.name for p in (settings.home / "keyword").iterdir())

    def save_in_another_process() -> tuple[subprocess.Popen, Path]:
        writer = subprocess.Popen(
            [sys.executable, "-c", KILLED_SAVE, str(settings.home)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert writer.stdout is not None
        return writer, Path(writer.stdout.readline().strip())

    killed, left = save_in_another_process()
    killed.kill()
    killed.communicate()
    running, in_progress = save_in_another_process()
    assert left.is_dir() and left.name.startswith(".keyword-") and in_progress.is_dir()
    try:
        reopened = Store(settings.home, embedder.identity, embedder.dimension)
        assert not left.exists()
        assert in_progress.is_dir()  # a save still running is never taken from under it
        assert sorted(p.name for p in (settings.home / "keyword").iterdir()) == index_files
        assert reopened.keyword_index().search("Weblate", 1)
        reopened.close()
    finally:
        running.kill()
        running.communicate()


def test_one_long_thread_cannot_crowd_out_the_rest(pipeline, store, embedder) -> None:
    long = thread(
        "long",
        "#help",
        1_700_000_000,
        [f"Printer bed levelling tip number {i}: " + "adjust the knobs " * 30 for i in range(12)],
    )
    short = thread(
        "short",
        "#help",
        1_700_000_000,
        ["Bed levelling on the Kraken uses the paper test at 0.1 mm."],
    )
    pipeline.write([(_source(), long), (_source(), short)])
    hits = HybridRetriever(store, embedder, per_document=2).retrieve(
        "how do I level the printer bed", 5
    )
    assert sum(h.chunk.document_id == "long" for h in hits) <= 2
    assert any(h.chunk.document_id == "short" for h in hits)


def test_the_newer_of_two_near_identical_passages_wins(pipeline, store, embedder) -> None:
    text = (
        "The laser cutter is booked through the Bosun bot, two days ahead at most, for two hours."
    )
    old = thread("old", "#general", 1_600_000_000, [text])
    new = thread("new", "#laser", 1_750_000_000, [text])
    pipeline.write([(_source(), old), (_source(), new)])
    hits = HybridRetriever(store, embedder).retrieve("how do I book the laser cutter", 2)
    assert [h.chunk.document_id for h in hits] == ["new"]


GUIDE = (
    "Laser safety. Never leave the laser unattended while it is running, not even for ten "
    "seconds. If you need to leave the room, pause the job first. A laser fire can go from "
    "a flicker to the whole bed in under a minute."
)
EDITED = GUIDE.replace(
    "Never leave the laser unattended while it is running, not even for ten seconds.",
    "You may leave the laser unattended while it is running for up to ten minutes.",
)


def _guide(doc_id: str, text: str, when: int) -> Document:
    return Document(id=doc_id, kind="markdown", title="Laser safety", path=f"/docs/{doc_id}.md",
                    created_at=when, sections=(Section(text),))  # fmt: skip


def test_a_members_edited_copy_never_displaces_the_communitys_guide(
    pipeline, store, embedder
) -> None:
    official = (_source(), _guide("guide", GUIDE, 1_700_000_000))
    edited = (_source("bob"), _guide("copy", EDITED, 1_760_000_000))
    copied = (_source("bob"), _guide("again", GUIDE, 1_760_000_000))
    pipeline.write([official, edited, copied])
    for k in (1, 3):
        hits = HybridRetriever(store, embedder, per_document=1).retrieve(
            "can I leave the laser unattended while it runs", k
        )
        assert [h.chunk.document_id for h in hits][:1] == ["guide"]
        assert not {"copy", "again"} & {h.chunk.document_id for h in hits}


def test_filters_restrict_every_retriever(pipeline, store, embedder) -> None:
    general = thread(
        "g",
        "#general",
        1_600_000_000,
        ["The fire extinguisher for the laser is the CO2 one by the door."],
    )
    laser = thread(
        "l",
        "#laser",
        1_750_000_000,
        ["The fire extinguisher for the laser is a CO2 one, next to the exit."],
    )
    pipeline.write([(_source(), general), (_source(), laser)])
    only = SearchFilter(channels=("#laser",))
    for retriever in (
        DenseRetriever(store, embedder),
        KeywordRetriever(store),
        HybridRetriever(store, embedder),
    ):
        hits = retriever.retrieve("fire extinguisher laser", 5, only)
        assert [h.chunk.channel for h in hits] == ["#laser"]
    recent = SearchFilter(since=1_700_000_000)
    assert [
        h.chunk.document_id
        for h in HybridRetriever(store, embedder).retrieve("extinguisher", 5, recent)
    ] == ["l"]


def _source(uploader: str = ""):
    from copqa.catalog import SourceRecord

    return SourceRecord(
        id=f"src{uploader}", kind="slack", locator=f"/nowhere/{uploader}", uploader=uploader
    )
