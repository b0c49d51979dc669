"""Ingest throughput against the model's own speed, on the same texts in one run.

1. copqa ingests a corpus into a fresh store (model already loaded);
2. the raw sentence-transformers model encodes exactly the texts copqa embedded;
3. copqa ingests the unchanged corpus again.
Prints chunks/s for each and the ratios the project targets.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from copqa.embedding import Embedder
from copqa.settings import Settings
from copqa.store import Store, embedding_text
from ingest.factory import build_pipeline


def run(corpus: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="copqa-bench-") as home:
        settings = Settings(home=Path(home))
        embedder = Embedder.from_settings(settings)
        embedder.embed(["warm up the model once"])
        store = Store(settings.home, embedder.identity, embedder.dimension)
        pipeline = build_pipeline(settings, store, embedder)

        first = pipeline.ingest([corpus])
        texts = [embedding_text(c) for batch in store.catalog.iter_chunks() for c in batch]

        started = time.perf_counter()
        embedder.embed(texts)
        raw_seconds = time.perf_counter() - started

        again = pipeline.ingest([corpus])
        store.close()

    figures = {
        "documents": float(first.added),
        "chunks": float(first.chunks),
        "raw_encode_chunks_per_s": len(texts) / raw_seconds,
        "ingest_chunks_per_s": first.chunks / first.seconds,
        "first_ingest_s": first.seconds,
        "reingest_s": again.seconds,
    }
    figures["ingest_vs_raw"] = figures["ingest_chunks_per_s"] / figures["raw_encode_chunks_per_s"]
    figures["reingest_speedup"] = first.seconds / again.seconds
    if again.added or again.updated:
        raise RuntimeError(f"re-ingest changed the store: {again.to_json()}")
    return figures


def report(corpus: Path, figures: dict[str, float]) -> str:
    return "\n".join(
        [
            f"ingest benchmark on {corpus}",
            f"  documents {figures['documents']:.0f}, chunks {figures['chunks']:.0f}",
            f"  raw sentence-transformers encode : {figures['raw_encode_chunks_per_s']:7.1f} chunks/s",
            f"  copqa end-to-end ingest          : {figures['ingest_chunks_per_s']:7.1f} chunks/s "
            f"({figures['first_ingest_s']:.1f} s)",
            f"  ratio ingest / raw encode        : {figures['ingest_vs_raw']:7.2f}   (target >= 0.85)",
            f"  re-ingest unchanged corpus       : {figures['reingest_s']:7.2f} s, "
            f"{figures['reingest_speedup']:.0f}x faster   (target >= 20x)",
        ]
    )
