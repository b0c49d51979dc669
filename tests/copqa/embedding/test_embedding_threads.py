"""One embedder shared by threads: counting word pieces while queries and passages are embedded.

The chunker counts pieces in an ingesting thread while askers embed their questions in
others; a tokenizer whose padding and truncation are settings of the object failed this
within seconds (`ValueError: Unable to create tensor ...`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from copqa.embedding.embedder import Embedder
from copqa.settings import EmbeddingSettings
from tests.support.paths import SAMPLE

SAMPLE_SLACK = SAMPLE / "slack"
SECONDS = 4.0  # each thread stops after this long, or after its bounded number of rounds
ROUNDS = 400


@pytest.fixture(scope="module")
def messages() -> list[str]:
    """The sample community's Slack messages (committed beside the code)."""
    texts = [
        message["text"]
        for day in sorted(SAMPLE_SLACK.glob("*/*.json"))
        for message in json.loads(day.read_text(encoding="utf-8"))
        if message.get("text")
    ]
    assert len(texts) >= 40
    return texts


def _hammer(work: Callable[[int], None], errors: list[BaseException], done: list[int]) -> None:
    deadline = time.monotonic() + SECONDS
    rounds = 0
    try:
        while rounds < ROUNDS and time.monotonic() < deadline:
            work(rounds)
            rounds += 1
    except BaseException as exc:
        errors.append(exc)
    done.append(rounds)


@pytest.mark.parametrize("precision", ["fp32", "onnx-fp32"])
def test_threads_mixing_tokenize_queries_and_passages(
    precision: str, messages: list[str], embedder: Embedder, tmp_path: Path
) -> None:
    shared = (
        embedder
        if precision == "fp32" and embedder.precision == "fp32"
        else Embedder(
            EmbeddingSettings().resolved_model_path(), precision=precision, cache_dir=tmp_path
        )  # type: ignore[arg-type]
    )
    long_text = " ".join(messages) * 3  # longer than the model reads: counting must not cut it
    expected_pieces = len(shared.tokenize(long_text))
    assert expected_pieces > shared.max_tokens
    expected_query = shared.embed_query(messages[0])
    counts: list[int] = []

    def count(n: int) -> None:
        counts.append(len(shared.tokenize(long_text)))
        shared.tokenize(messages[n % len(messages)])

    def ask(n: int) -> None:
        vector = shared.embed_query(messages[n % 2 * 7])
        if n % 2 == 0:
            assert float(vector @ expected_query) > 0.999

    def ingest(n: int) -> None:
        start = n * 5 % len(messages)
        batch = [*messages[start : start + 9], long_text[: 4000 + n]]
        vectors = shared.embed(batch)
        assert vectors.shape == (len(batch), shared.dimension)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)

    errors: list[BaseException] = []
    done: list[int] = []
    work = [count, count, count, ask, ask, ingest, ingest]
    threads = [threading.Thread(target=_hammer, args=(w, errors, done)) for w in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    print(f"{precision}: {sum(done)} calls in {len(threads)} threads, {len(errors)} errors")
    assert errors == [], errors[:3]
    assert len(done) == len(threads) and all(rounds > 0 for rounds in done)
    assert set(counts) == {expected_pieces}


def test_counting_gives_the_pieces_of_the_models_own_tokenizer(
    messages: list[str], embedder: Embedder
) -> None:
    from transformers import AutoTokenizer

    model_tokenizer = AutoTokenizer.from_pretrained(
        str(EmbeddingSettings().resolved_model_path()), local_files_only=True
    )
    texts = [
        *messages,
        " ".join(messages),
        "Ünïcödé, emoji 👍, code `x <- c(1, 2)` and [CLS] [SEP]",
    ]
    assert [embedder.tokenize(t) for t in texts] == [model_tokenizer.tokenize(t) for t in texts]
