"""Warm `ask` latency at 10k and 100k chunks, with each stage timed apart.

The corpus is real: every export in ../shared/data together (R Contributors Slack and
docs, Zulip, the mailing list, Stack Exchange, Discord, Discourse, the PDFs with a text
layer), embedded once and cached; a larger store is that corpus replicated under new ids,
its vectors nudged by a little noise so the vector index sees distinct points
(re-embedding 100k chunks would take an hour here, and latency does not depend on which
texts are stored); a smaller one is its first chunks. The base corpus trains its
re-ranker as `copqa ingest` would, and every store re-ranks with it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from copqa.assistant import Assistant
from copqa.embedding import Embedder
from copqa.models import Chunk
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
    """A store of `chunks` chunks: the base corpus copied under new ids until it is that big."""
    if (target / "done").is_file() and reranker_path(target).is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    source = Store(base, embedder.identity, embedder.dimension)
    originals = [c for batch in source.iter_chunks() for c in batch]
    vectors = source.stored_vectors([c.id for c in originals])
    source.close()
    store = Store(target, embedder.identity, embedder.dimension)
    rng = np.random.default_rng(7)
    made, copy = 0, 0
    while made < chunks:
        batch = originals[: chunks - made]
        copies = [_copy(c, copy) for c in batch]
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
    (target / "done").touch()
    return target


def _copy(chunk: Chunk, copy: int) -> Chunk:
    if copy == 0:
        return chunk
    document_id = f"{chunk.document_id}~{copy}"
    number = chunk.id.rsplit(":", 1)[1]
    return dataclasses.replace(chunk, id=f"{document_id}:{number}", document_id=document_id)


def measure(home: Path, embedder: Embedder, rounds: int = 3) -> dict[str, float]:
    """p50/p95 of a whole warm `ask`, and the median of each stage."""
    settings = Settings(home=home)
    store = Store(home, embedder.identity, embedder.dimension)
    assistant = Assistant.on_store(settings, embedder, store)
    if not reranker_path(home).is_file():
        raise RuntimeError(f"{home} has no re-ranker: the bench measures asks as served")
    store.keyword_index()
    assistant.ask(QUESTIONS[0])  # warm: model, index pages, caches
    totals: list[float] = []
    stages: dict[str, list[float]] = {
        "embed": [],
        "vector": [],
        "bm25": [],
        "fusion": [],
        "answer": [],
    }
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            assistant.ask(question)
            totals.append(time.perf_counter() - started)
            _time_stages(question, assistant, stages)
    count = store.counts().chunks
    store.close()
    ordered = sorted(totals)
    result = {
        "chunks": float(count),
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
    }
    result.update({f"{name}_ms": 1000 * statistics.median(v) for name, v in stages.items()})
    return result


def _time_stages(question: str, assistant: Assistant, stages: dict[str, list[float]]) -> None:
    store, embedder = assistant.store, assistant.embedder

    def timed(name: str, work: Callable[[], object]) -> object:
        started = time.perf_counter()
        value = work()
        stages[name].append(time.perf_counter() - started)
        return value

    vector = timed("embed", lambda: embedder.embed_query(question))
    timed("vector", lambda: store.nearest(vector, 30))  # type: ignore[arg-type]
    timed("bm25", lambda: store.keyword_index().search(question, 30))
    passages = timed("fusion", lambda: assistant.retriever.retrieve(question, 5))
    timed("answer", lambda: assistant.answerer.answer(question, passages))  # type: ignore[arg-type]


def stores(cache: Path, shared: Path, sizes: tuple[int, ...]) -> dict[int, Path]:
    """A home holding each size of store (in chunks), built on first use and kept in `cache`."""
    embedder = Embedder.from_settings(Settings())
    base = build_base(cache, shared, embedder)
    return {n: replicate(base, cache / f"store-{n}", n, embedder) for n in sizes}


def run(cache: Path, shared: Path, sizes: tuple[int, ...]) -> list[dict[str, float]]:
    embedder = Embedder.from_settings(Settings())
    return [measure(home, embedder) for home in stores(cache, shared, sizes).values()]


def report(results: list[dict[str, float]]) -> str:
    lines = [
        "query latency (warm, extractive answerer, k=5)",
        "  chunks   p50 ms  p95 ms | embed  vector  bm25  fusion+catalog+rerank  answer (median ms)",
    ]
    for r in results:
        lines.append(
            f"  {r['chunks']:>7.0f} {r['p50_ms']:7.0f} {r['p95_ms']:7.0f} | {r['embed_ms']:5.0f} "
            f"{r['vector_ms']:7.1f} {r['bm25_ms']:5.1f} {r['fusion_ms']:22.0f} {r['answer_ms']:7.0f}"
        )
    if len(results) > 1:
        ratio = results[-1]["p50_ms"] / results[0]["p50_ms"]
        lines.append(
            f"  p50 ratio {results[-1]['chunks']:.0f}/{results[0]['chunks']:.0f} chunks: {ratio:.2f}"
        )
    return "\n".join(lines)


def as_json(results: list[dict[str, float]]) -> str:
    return json.dumps(results, indent=2)
