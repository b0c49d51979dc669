"""Dense, keyword and hybrid retrieval on a real store: exact terms, filters, diversity, freshness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from copqa.models import Document, Post, SearchFilter, Section
from copqa.retrieval.reranking import asker_only
from copqa.retrieval.retrievers import DenseRetriever, HybridRetriever, KeywordRetriever
from copqa.store.keyword_index import KeywordIndex
from copqa.store.store import Store
from tests.support.files import write_files
from tests.support.laser_thread import (
    LASER_ANSWER,
    LASER_CHATTER,
    LASER_ELSEWHERE,
    LASER_QUESTION,
    source_record,
    stored_chunks,
)

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
    assert built.generation == store.generation()
    (folder / "errors.md").unlink()
    pipeline.ingest([folder], prune=True)
    assert KeywordRetriever(store).retrieve("R_CheckUserInterrupt", 3) == []
    saved = KeywordIndex.load(settings.home / "keyword")
    assert saved is not None and saved.generation == store.generation()
    reopened = Store(settings.home, embedder.identity, embedder.dimension)
    assert reopened.keyword_index().search("Weblate", 1)
    reopened.close()


# A save killed while it writes: the folder it made, half filled, then SIGKILL.
KILLED_SAVE = """
import sys
from pathlib import Path
from copqa.store.keyword_index import staging_folder
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
    pipeline.write([(source_record(), long), (source_record(), short)])
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
    pipeline.write([(source_record(), old), (source_record(), new)])
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
    official = (source_record(), _guide("guide", GUIDE, 1_700_000_000))
    edited = (source_record("bob"), _guide("copy", EDITED, 1_760_000_000))
    copied = (source_record("bob"), _guide("again", GUIDE, 1_760_000_000))
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
    pipeline.write([(source_record(), general), (source_record(), laser)])
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


def _laser_thread() -> Document:
    texts = [LASER_QUESTION, *LASER_CHATTER, LASER_ANSWER]
    posts = tuple(
        Post(id=f"laser-{i}", author_id=f"u{i}", author_name=f"Member {i}", text=t,
             created_at=1_740_000_000 + i, accepted=t is LASER_ANSWER)
        for i, t in enumerate(texts)
    )  # fmt: skip
    return Document(id="laser", kind="discourse", title=LASER_QUESTION, channel="laser",
                    created_at=1_740_000_000, posts=posts)  # fmt: skip


def test_a_found_question_brings_its_accepted_answer_after_it(pipeline, store, embedder) -> None:
    others = [thread(f"other{i}", "#laser", 1_730_000_000, [t])
              for i, t in enumerate(LASER_ELSEWHERE)]  # fmt: skip
    pipeline.write([(source_record(), _laser_thread()), *((source_record(), o) for o in others)])
    answer = next(c.id for c in stored_chunks(store) if "laser-3" in c.post_ids)
    assert answer == "laser:2"  # two windows of restated problem before it
    hits = HybridRetriever(store, embedder).retrieve(LASER_QUESTION, 3)
    assert [h.chunk.id for h in hits][:2] == ["laser:0", answer]
    assert "isopropyl" in hits[1].chunk.text
    # The replies restating the problem are nearer the question: alone, ranking misses it.
    without = HybridRetriever(store, embedder, thread_answers=False).retrieve(LASER_QUESTION, 3)
    assert answer not in [h.chunk.id for h in without]


def test_a_window_of_only_the_askers_words_yields_to_the_answer(pipeline, store, embedder) -> None:
    lena = [(LASER_QUESTION, "Lena"), *((t, "Lena") for t in LASER_CHATTER)]
    texts = [*lena, (LASER_ANSWER, "Tobias")]
    posts = tuple(
        Post(
            id=f"laser-{i}", author_id=name, author_name=name, text=t, created_at=1_740_000_000 + i
        )
        for i, (t, name) in enumerate(texts)
    )
    laser = Document(id="laser", kind="zulip", title="Kraken laser", channel="laser",
                     created_at=1_740_000_000, posts=posts)  # fmt: skip
    pipeline.write([(source_record(), laser)])
    windows = store.chunks([(c.id, 0.0) for c in stored_chunks(store)])  # with their posts
    stored = {h.chunk.post_ids[0]: h.chunk for h in windows}
    restated, answer = stored["laser-2"], stored["laser-3"]
    assert asker_only(restated) and not asker_only(answer)
    question = "The Kraken laser only marks 3 mm birch plywood at full power now, what to do?"

    def order(weight: float) -> list[str]:
        retriever = HybridRetriever(
            store, embedder, per_document=3, thread_answers=False, asker_weight=weight
        )
        return [h.chunk.id for h in retriever.retrieve(question, 3)]

    # The asker saying more of the problem is nearer the question than the answer is (by
    # 0.16 of cosine here, an extreme case) ...
    assert order(0.0).index(restated.id) < order(0.0).index(answer.id)
    # ... and yields to it once the asker's own words weigh less by more than that.
    assert order(0.3).index(answer.id) < order(0.3).index(restated.id)


def test_only_a_thread_window_without_another_members_words_is_the_askers() -> None:
    from copqa.models import Chunk, PostRef

    def window(*posts: PostRef) -> Chunk:
        return Chunk(id="t:1", document_id="t", source_id="s", text="...", kind="slack",
                     title="t", thread_id="t", posts=posts, asker="Lena")  # fmt: skip

    lena, bot = PostRef("p1", "Lena"), PostRef("p2", "Bosun", is_bot=True)
    assert asker_only(window(lena)) and asker_only(window(lena, bot))
    assert not asker_only(window(lena, PostRef("p3", "Tobias")))
    assert not asker_only(window(bot))
    file_part = Chunk(
        id="f:0", document_id="f", source_id="s", text="...", kind="markdown", title="f"
    )
    assert not asker_only(file_part)


RESIN_QUESTION = "The Zephyr-9 extruder on our resin printer keeps clogging, what fixes it?"
RESIN_REPLIES = [
    "Which printer exactly, the one in the back room or the new one by the window? " * 8,
    "Soak the nozzle overnight in warm isopropyl alcohol, then push a 0.3 mm needle through.",
]


def test_a_reply_window_is_found_by_its_threads_question(pipeline, store, embedder) -> None:
    resin = thread("resin", "#printing", 1_740_000_000, [RESIN_QUESTION, *RESIN_REPLIES])
    pipeline.write([(source_record(), resin)])
    reply = next(c for c in stored_chunks(store) if c.post_ids[0] == "resin-2")
    assert "Zephyr" not in reply.text and "Zephyr" in reply.context
    # BM25: a word only the question holds finds the reply window too.
    found = [h.chunk.id for h in KeywordRetriever(store).retrieve("Zephyr-9", 5)]
    assert reply.id in found
    # Dense: the stored vector read the question; the reply alone is further from it.
    vector = embedder.embed_query(RESIN_QUESTION)
    alone = float(embedder.embed([reply.text])[0] @ vector)
    assert store.similarities(vector, [reply.id])[reply.id] > alone + 0.1


def test_rarity_on_a_real_index_and_terms_stem_like_it(pipeline, store, tmp_path) -> None:
    docs = {**DOCS, "more.md": "# Contributors\n\nContributors translate messages and meet online."}
    pipeline.ingest([write_files(tmp_path / "docs", docs)])
    index = store.keyword_index()
    rarity = index.rarity("contributors zorblatt")
    assert rarity["zorblatt"] > rarity["contributor"] > 0  # stemmed, like the index
    assert index.terms("Translating the messages") == {"translat", "messag"}
    # Every keyword of a stored chunk is known to the index: spelled as the index spells it.
    unseen = rarity["zorblatt"]
    assert all(v < unseen for v in index.rarity(DOCS["errors.md"]).values())
