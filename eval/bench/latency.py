"""Warm `ask` latency at 10k and 100k chunks, with each stage timed apart.

The corpus is real: every export in ../shared/data together (R Contributors Slack and
docs, Zulip, the mailing list, Stack Exchange, Discord, Discourse, the PDFs with a text
layer), embedded once and cached; a larger store is that corpus replicated under new ids,
its vectors nudged by a little noise so the vector index sees distinct points
(re-embedding 100k chunks would take an hour here, and latency does not depend on which
texts are stored); a smaller one is its first chunks. The base corpus trains its
re-ranker as `copqa ingest` would, and every store re-ranks with it.

Every other thread or file of a store is private (`members`, or one of two groups), all its
copies with it (about half of the chunks), so each ask is timed for three readers, in turn
on each question: a maintainer (every level, no access clause: the baseline the earlier
figures measured), a guest (public only) and a member of one of the groups. The issue's
target: a filtered ask's p50 within 1.5x of the maintainer's.
Each reader's answers are checked too: none may cite a passage its reader may not read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from copqa.access import GUEST, MAINTAINER, MEMBERS, PUBLIC, Reader
from copqa.assistant import Assistant
from copqa.embedding import Embedder
from copqa.models import Answer, Chunk, SearchFilter
from copqa.retrieval import reranker_path
from copqa.settings import Settings
from copqa.store import Store
from ingest.factory import build_pipeline

EXPORTS = (
    "r-contributors/slack",
    "r-contributors/docs",
    "zulip-ncar-esds",
    "mbox-clearwater",
    "stackexchange-bicycles-meta",
    "discord-ethglobal",
    "discourse-api-samples",
    "pdfs/text_layer",
)
QUESTIONS = [
    "how do I build R from source on Windows",
    "who organised the Bug BBQ and how many bugs were fixed",
    "where do I report a bug in base R",
    "how can I contribute translations of R messages",
    "what is the R Dev Day and how do I join",
    "is there office hours for new contributors",
    "how to run the R test suite after a change",
    "which channel should I use to ask about C code in R",
    "how do I get a Bugzilla account",
    "what happened at the R project sprint 2023",
    "how do I submit a patch for review",
    "what is the C study group reading",
    "how do I open a large netCDF dataset lazily with dask",
    "why was my question closed as a duplicate",
    "how do I install Clearwater on a single node",
    "which testnet should our agent deploy to",
]
# Named as ingestion names a private channel's group: `group:NAME@<source id>`.
PRIVATE_GROUP = "bench-private@0be0c4e5"
OTHER_GROUP = "bench-other@0be0c4e5"
PRIVATE_LEVELS = (MEMBERS, f"group:{PRIVATE_GROUP}", f"group:{OTHER_GROUP}")
READERS = {
    "maintainer": MAINTAINER,  # every level: no access clause, the unfiltered baseline
    "guest": GUEST,
    "member": Reader("bench member", "member", frozenset({PRIVATE_GROUP})),
}
BASELINE = "maintainer"
TARGET_RATIO = 1.5  # a filtered ask's p50 against the baseline's, at the largest store
# Written in a store's `done`: a store cached with another layout (all public) is built again.
LAYOUT = "every other document private: members, group:bench-private, group:bench-other"
# A load average above this while measuring means other work shared the CPU: the bench
# alone keeps about two threads busy (the model's, on two cores).
BUSY_LOAD = (os.cpu_count() or 1) + 1
STAGES = ("embed", "vector", "bm25", "fusion", "answer")
# What each reader's answers rested on: passages retrieved and cited, cited ones not public,
# and those the reader may not read (must stay 0).
LEAK_COUNTS = ("retrieved", "cited", "private_cited", "unreadable_retrieved", "unreadable_cited")


def build_base(cache: Path, shared: Path, embedder: Embedder) -> Path:
    """The real corpus, embedded once; reused while `cache` exists."""
    home = cache / "base"
    if (home / "done").is_file() and reranker_path(home).is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home)
    store = Store(home, embedder.identity, embedder.dimension)
    build_pipeline(settings, store, embedder).ingest([shared / export for export in EXPORTS])
    if Assistant.on_store(settings, embedder, store).retrain_reranker() is None:
        raise RuntimeError("the bench corpus has too few solved threads to train a re-ranker")
    store.close()
    (home / "done").touch()
    return home


def replicate(base: Path, target: Path, chunks: int, embedder: Embedder) -> Path:
    """A store of `chunks` chunks: the base corpus copied under new ids until it is that big.

    Every other document of the base is private (`level_at`), and so is each of its copies:
    what a guest cannot read is other content, not another copy of what they can.
    """
    done = target / "done"
    if done.is_file() and done.read_text() == LAYOUT and reranker_path(target).is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    source = Store(base, embedder.identity, embedder.dimension)
    originals = [c for batch in source.iter_chunks() for c in batch]
    documents = dict.fromkeys(c.document_id for c in originals)
    levels = {document_id: level_at(n) for n, document_id in enumerate(documents)}
    vectors = source.stored_vectors([c.id for c in originals])
    source.close()
    store = Store(target, embedder.identity, embedder.dimension)
    rng = np.random.default_rng(7)
    made, copy = 0, 0
    while made < chunks:
        batch = originals[: chunks - made]
        copies = [_copy(c, copy, levels[c.document_id]) for c in batch]
        matrix = np.stack([vectors[c.id] for c in batch])
        if copy:
            matrix = matrix + rng.normal(0, 0.02, matrix.shape).astype(np.float32)
            matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        store.append_copies(copies, matrix)
        made += len(copies)
        copy += 1
    store.keyword_index()
    store.close()
    shutil.copyfile(reranker_path(base), reranker_path(target))
    done.write_text(LAYOUT)
    return target


def level_at(position: int) -> str:
    """The access level of the base's document at `position`: half public, the rest private."""
    if position % 2 == 0:
        return PUBLIC
    return PRIVATE_LEVELS[(position // 2) % len(PRIVATE_LEVELS)]


def _copy(chunk: Chunk, copy: int, level: str) -> Chunk:
    if copy == 0:
        return dataclasses.replace(chunk, access=level)
    document_id = f"{chunk.document_id}~{copy}"
    number = chunk.id.rsplit(":", 1)[1]
    return dataclasses.replace(
        chunk, id=f"{document_id}:{number}", document_id=document_id, access=level
    )


def measure(home: Path, embedder: Embedder, rounds: int = 3) -> dict[str, dict[str, float]]:
    """Each reader's p50/p95 of a whole warm `ask`, the median of each stage, and what its
    answers cited that it may not read.

    The readers take turns on each question, in an order that moves on with the question,
    so a slow moment of the machine falls on all of them alike.
    """
    settings = Settings(home=home)
    store = Store(home, embedder.identity, embedder.dimension)
    assistant = Assistant.on_store(settings, embedder, store)
    if not reranker_path(home).is_file():
        raise RuntimeError(f"{home} has no re-ranker: the bench measures asks as served")
    store.keyword_index()
    names = list(READERS)
    load_before = os.getloadavg()[0]
    for name in names:  # warm: model, index pages, caches, each reader's keyword mask
        assistant.ask(QUESTIONS[0], where=SearchFilter(levels=READERS[name].levels))
    totals: dict[str, list[float]] = {name: [] for name in names}
    stages: dict[str, dict[str, list[float]]] = {n: {s: [] for s in STAGES} for n in names}
    leaks: dict[str, dict[str, int]] = {n: dict.fromkeys(LEAK_COUNTS, 0) for n in names}
    for _ in range(rounds):
        for turn, question in enumerate(QUESTIONS):
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                reader = READERS[name]
                where = SearchFilter(levels=reader.levels)
                started = time.perf_counter()
                answer = assistant.ask(question, where=where)
                totals[name].append(time.perf_counter() - started)
                _count_leaks(answer, reader, leaks[name])
                _time_stages(question, assistant, where, stages[name])
    load_after = os.getloadavg()[0]
    count = store.counts().chunks
    private = sum(c.access != PUBLIC for batch in store.iter_chunks() for c in batch)
    store.close()
    results = {}
    for name in names:
        ordered = sorted(totals[name])
        result = {
            "chunks": float(count),
            "private_share": private / count,
            "load_before": load_before,  # the 1-minute load average: other work on the machine
            "load_after": load_after,
            "p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        }
        result.update({f"{s}_ms": 1000 * statistics.median(v) for s, v in stages[name].items()})
        result.update({key: float(n) for key, n in leaks[name].items()})
        results[name] = result
    return results


def _count_leaks(answer: Answer, reader: Reader, counts: dict[str, int]) -> None:
    """Passages the answer rests on, those that are private, and those `reader` may not read."""
    retrieved = [hit.chunk for hit in answer.retrieved]
    cited = [citation.chunk for citation in answer.citations]
    counts["retrieved"] += len(retrieved)
    counts["cited"] += len(cited)
    counts["private_cited"] += sum(c.access != PUBLIC for c in cited)
    counts["unreadable_retrieved"] += sum(not reader.may_read(c.access) for c in retrieved)
    counts["unreadable_cited"] += sum(not reader.may_read(c.access) for c in cited)


def _time_stages(
    question: str, assistant: Assistant, where: SearchFilter, stages: dict[str, list[float]]
) -> None:
    store, embedder = assistant.store, assistant.embedder

    def timed(name: str, work: Callable[[], object]) -> object:
        started = time.perf_counter()
        value = work()
        stages[name].append(time.perf_counter() - started)
        return value

    vector = timed("embed", lambda: embedder.embed_query(question))
    # The vector query with the reader's access clause, its 30 finds read from the catalog.
    timed("vector", lambda: store.search(vector, 30, where))  # type: ignore[arg-type]
    timed("bm25", lambda: store.keyword_index().search(question, 30, where.levels))
    passages = timed("fusion", lambda: assistant.retriever.retrieve(question, 5, where))
    timed("answer", lambda: assistant.answerer.answer(question, passages))  # type: ignore[arg-type]


def stores(cache: Path, shared: Path, sizes: tuple[int, ...]) -> dict[int, Path]:
    """A home holding each size of store (in chunks), built on first use and kept in `cache`."""
    embedder = Embedder.from_settings(Settings())
    base = build_base(cache, shared, embedder)
    return {n: replicate(base, cache / f"store-{n}", n, embedder) for n in sizes}


def run(cache: Path, shared: Path, sizes: tuple[int, ...]) -> list[dict[str, dict[str, float]]]:
    """Per store size, each reader's figures (`measure`)."""
    embedder = Embedder.from_settings(Settings())
    return [measure(home, embedder) for home in stores(cache, shared, sizes).values()]


def report(results: list[dict[str, dict[str, float]]]) -> str:
    baseline = [r[BASELINE] for r in results]
    lines = [
        "query latency (warm, extractive answerer, k=5; a maintainer: every level, no access "
        "clause)",
        "  chunks   p50 ms  p95 ms | embed  vector  bm25  fusion+catalog+rerank  answer (median ms)",
    ]
    for r in baseline:
        lines.append(
            f"  {r['chunks']:>7.0f} {r['p50_ms']:7.0f} {r['p95_ms']:7.0f} | {r['embed_ms']:5.0f} "
            f"{r['vector_ms']:7.1f} {r['bm25_ms']:5.1f} {r['fusion_ms']:22.0f} {r['answer_ms']:7.0f}"
        )
    if len(baseline) > 1:
        ratio = baseline[-1]["p50_ms"] / baseline[0]["p50_ms"]
        lines.append(
            f"  p50 ratio {baseline[-1]['chunks']:.0f}/{baseline[0]['chunks']:.0f} chunks: {ratio:.2f}"
        )
    return "\n".join([*lines, access_report(results)])


def access_report(results: list[dict[str, dict[str, float]]]) -> str:
    """Each reader's latency against the maintainer's, and what each answer cited."""
    lines = [
        "ask with the access filter (readers take turns on each question; x: against the "
        "maintainer's)",
        "  readers: "
        + "; ".join(f"{name} {_readable(reader)}" for name, reader in READERS.items()),
        "  private: "
        + ", ".join(
            f"{r[BASELINE]['private_share']:.0%} of {r[BASELINE]['chunks']:,.0f} chunks"
            for r in results
        ),
        f"  {'chunks':>7} {'reader':<10} {'p50 ms':>7} {'p95 ms':>7} {'x p50':>6} {'x p95':>6} | "
        f"{'vector':>6} {'bm25':>5} {'fusion':>6} (median ms) | {'cited':>5} {'private':>7} "
        f"{'unreadable':>10}",
    ]
    for by_reader in results:
        base = by_reader[BASELINE]
        for name, r in by_reader.items():
            lines.append(
                f"  {r['chunks']:>7.0f} {name:<10} {r['p50_ms']:7.0f} {r['p95_ms']:7.0f} "
                f"{r['p50_ms'] / base['p50_ms']:6.2f} {r['p95_ms'] / base['p95_ms']:6.2f} | "
                f"{r['vector_ms']:6.1f} {r['bm25_ms']:5.1f} {r['fusion_ms']:6.0f} {'':11} | "
                f"{r['cited']:5.0f} {r['private_cited']:7.0f} {r['unreadable_cited']:10.0f}"
            )
    largest = results[-1]
    base = largest[BASELINE]
    for name, r in largest.items():
        if name == BASELINE:
            continue
        ratio = r["p50_ms"] / base["p50_ms"]
        verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
        lines.append(
            f"  {name} at {r['chunks']:,.0f} chunks: p50 {ratio:.2f}x the maintainer's "
            f"({verdict} the {TARGET_RATIO}x target)"
        )
    for name in largest:
        if name == BASELINE:
            continue
        cited = sum(by_reader[name]["unreadable_cited"] for by_reader in results)
        retrieved = sum(by_reader[name]["unreadable_retrieved"] for by_reader in results)
        verdict = "ok" if cited == retrieved == 0 else "LEAK"
        lines.append(
            f"  {name}: answers cited {cited:.0f} and retrieved {retrieved:.0f} passages "
            f"the reader may not read (must be 0: {verdict})"
        )
    busiest = max(max(r[BASELINE]["load_before"], r[BASELINE]["load_after"]) for r in results)
    lines.append(
        "  load average (1 min) while measuring: "
        + ", ".join(
            f"{r[BASELINE]['load_before']:.1f}-{r[BASELINE]['load_after']:.1f} at "
            f"{r[BASELINE]['chunks']:,.0f} chunks"
            for r in results
        )
        + f", on {os.cpu_count()} cores"
        + ("" if busiest <= BUSY_LOAD else ": other work shared the CPU, rerun quiet")
    )
    return "\n".join(lines)


def _readable(reader: Reader) -> str:
    levels = reader.levels
    return "every level" if levels is None else ", ".join(levels)


def as_json(results: list[dict[str, dict[str, float]]]) -> str:
    return json.dumps(results, indent=2)
