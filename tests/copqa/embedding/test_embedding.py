"""The precisions: the default ranks real passages as fp32 does; ONNX exports are cached."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copqa.embedding.embedder import Embedder, resolve_precision
from copqa.settings import EmbeddingSettings

PASSAGES = 40
QUERIES = 6


@pytest.fixture(scope="module")
def stackfaq(shared_data: Path) -> tuple[list[str], list[str]]:
    """The first 40 real StackFAQ passages, and one question each about six of them."""
    folder = shared_data.parent / "eval" / "stackfaq"
    rows = [json.loads(line) for line in (folder / "corpus.jsonl").read_text().splitlines()]
    passages = rows[:PASSAGES]
    ids = {str(row["_id"]) for row in passages}
    asked: dict[str, str] = {}  # passage id -> the first question about it
    for line in (folder / "qrels.tsv").read_text().splitlines()[1:]:
        query_id, corpus_id, _ = line.split("\t")
        if corpus_id in ids:
            asked.setdefault(corpus_id, query_id)
    text_of = {
        query["_id"]: query["text"]
        for query in map(json.loads, (folder / "queries.jsonl").read_text().splitlines())
    }
    queries = [text_of[query_id] for query_id in list(asked.values())[::5]][:QUERIES]
    assert len(queries) == QUERIES, "StackFAQ changed: too few questions about the first passages"
    return [f"{row.get('title', '')}\n{row['text']}" for row in passages], queries


def _top5(embedder: Embedder, passages: list[str], queries: list[str]) -> list[list[int]]:
    scores = embedder.embed(queries) @ embedder.embed(passages).T
    return [list(np.argsort(-row)[:5]) for row in scores]


def test_default_precision_ranks_real_passages_as_fp32_does(
    embedder: Embedder, stackfaq: tuple[list[str], list[str]]
) -> None:
    passages, queries = stackfaq
    default = Embedder(EmbeddingSettings().resolved_model_path(), precision="auto")
    assert default.precision == resolve_precision("auto")
    fp32 = (
        embedder
        if embedder.precision == "fp32"
        else Embedder(EmbeddingSettings().resolved_model_path(), precision="fp32")
    )
    assert _top5(default, passages, queries) == _top5(fp32, passages, queries)
    norms = np.linalg.norm(default.embed(passages), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)
    assert default.identity == fp32.identity  # one store serves every precision


def test_onnx_int8_export_is_cached_and_reused(
    tmp_path: Path, stackfaq: tuple[list[str], list[str]]
) -> None:
    passages = stackfaq[0]
    model_path = EmbeddingSettings().resolved_model_path()
    first = Embedder(model_path, precision="onnx-int8", cache_dir=tmp_path)
    exported = {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    assert any(name.endswith("-int8.onnx") for name in exported)
    assert not any(name.endswith(".partial") for name in exported)

    second = Embedder(model_path, precision="onnx-int8", cache_dir=tmp_path)
    assert {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()} == exported
    vectors = second.embed(passages)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, first.embed(passages))
