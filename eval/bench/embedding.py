"""Embedding precisions side by side: speed, agreement with fp32, and retrieval quality.

1. the same real chunks (the R Contributors docs, cut by copqa's own chunker) are embedded
   by every precision, in alternating rounds so a busy machine hurts them alike: texts/s;
2. each text's 10 nearest neighbours among those chunks, against fp32's: top-10 overlap;
3. nDCG@10 of dense retrieval on StackFAQ and on ClapNQ's gold passages (eval.retrieval_quality).
The default is the precision "auto" resolves to on this machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from copqa.embedding import Embedder, Precision, embedding_text, resolve_precision
from copqa.settings import Settings
from eval.retrieval_quality import evaluate, load_beir, load_case_passages
from ingest.chunking import Chunker
from ingest.loaders import MarkdownLoader

VARIANTS: tuple[Precision, ...] = ("fp32", "bf16", "onnx-fp32", "onnx-int8")
QUALITY_TOLERANCE = 0.005  # nDCG@10 a faster precision may lose against fp32, on every set


def sample_texts(docs: Path, embedder: Embedder, count: int) -> list[str]:
    """The first `count` chunks of the Markdown files under `docs`, as the model reads them."""
    settings = Settings()
    chunker = Chunker(embedder.tokenize, settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    loader = MarkdownLoader()
    texts: list[str] = []
    for path in sorted(docs.rglob("*.md")):
        for document in loader.load(path):
            if hasattr(document, "sections"):
                texts += [embedding_text(c) for c in chunker.chunk(document, "bench")]
        if len(texts) >= count:
            break
    return texts[:count]


def run(docs: Path, eval_dir: Path, count: int = 1000, rounds: int = 2) -> dict[str, object]:
    settings = Settings()
    model_path = settings.embedding.resolved_model_path()
    batch_size = settings.embedding.batch_size
    sets = [
        load_beir(eval_dir / "stackfaq"),
        load_case_passages(eval_dir / "clapnq/cases.jsonl", eval_dir / "clapnq/corpus.jsonl"),
    ]
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="copqa-bench-models-") as cache:
        embedders = {}
        for variant in VARIANTS:
            started = time.perf_counter()  # includes the ONNX export, done once per home
            embedders[variant] = Embedder(model_path, batch_size, variant, Path(cache))
            embedders[variant].embed(["warm up the model once"])
            rows[variant] = {"load_s": time.perf_counter() - started}
        texts = sample_texts(docs, embedders["fp32"], count)
        vectors: dict[str, np.ndarray] = {}
        for round_ in range(rounds):
            order = VARIANTS if round_ % 2 == 0 else VARIANTS[::-1]
            for variant in order:
                started = time.perf_counter()
                vectors[variant] = embedders[variant].embed(texts)
                speed = len(texts) / (time.perf_counter() - started)
                rows[variant][f"texts_per_s_{round_ + 1}"] = speed
                _progress(f"round {round_ + 1} {variant}: {speed:.1f} texts/s")
        reference = _neighbours(vectors["fp32"])
        for variant in VARIANTS:
            row = rows[variant]
            row["texts_per_s"] = float(
                np.mean([row[f"texts_per_s_{r + 1}"] for r in range(rounds)])
            )
            row["overlap@10"] = _overlap(reference, _neighbours(vectors[variant]))
            for dataset in sets:
                scores = evaluate(dataset, embedders[variant], settings, retrievers=("dense",))
                row[f"ndcg@10 {dataset.name}"] = scores["dense"]["ndcg@10"]
                _progress(f"{variant} {dataset.name}: nDCG@10 {row[f'ndcg@10 {dataset.name}']:.4f}")
    for row in rows.values():
        row["speedup"] = row["texts_per_s"] / rows["fp32"]["texts_per_s"]
        row["delta"] = min(
            row[f"ndcg@10 {d.name}"] - rows["fp32"][f"ndcg@10 {d.name}"] for d in sets
        )
    return {
        "texts": len(texts),
        "rounds": rounds,
        "sets": [d.name for d in sets],
        "rows": rows,
        "default": resolve_precision("auto"),
    }


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _neighbours(vectors: np.ndarray, k: int = 10) -> np.ndarray:
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :k]


def _overlap(reference: np.ndarray, other: np.ndarray) -> float:
    shared = [len(set(a) & set(b)) / len(a) for a, b in zip(reference, other, strict=True)]
    return float(np.mean(shared))


def report(figures: dict[str, object]) -> str:
    rows: dict[str, dict[str, float]] = figures["rows"]  # type: ignore[assignment]
    sets: list[str] = figures["sets"]  # type: ignore[assignment]
    rounds = int(figures["rounds"])  # type: ignore[call-overload]
    runs = " / ".join(f"run {r + 1}" for r in range(rounds))
    lines = [
        f"embedding benchmark: {figures['texts']} R Contributors doc chunks, {rounds} alternating "
        f"rounds; nDCG@10 of dense retrieval; Δ = worst nDCG@10 change vs fp32 over both sets",
        f"| precision | texts/s (mean; {runs}) | x fp32 | top-10 overlap | "
        + " | ".join(f"nDCG@10 {name}" for name in sets)
        + " | Δ vs fp32 | load s | |",
        "|---|---|---|---|" + "---|" * len(sets) + "---|---|---|",
    ]
    for variant, row in rows.items():
        each = " / ".join(f"{row[f'texts_per_s_{r + 1}']:.1f}" for r in range(rounds))
        within = "" if row["delta"] >= -QUALITY_TOLERANCE else " (over tolerance)"
        marker = "**default**" if variant == figures["default"] else ""
        lines.append(
            f"| {variant} | {row['texts_per_s']:.1f} ({each}) | {row['speedup']:.2f} | "
            f"{row['overlap@10']:.3f} | "
            + " | ".join(f"{row[f'ndcg@10 {name}']:.4f}" for name in sets)
            + f" | {row['delta']:+.4f}{within} | {row['load_s']:.1f} | {marker} |"
        )
    return "\n".join(lines)
