"""Against a real local OpenAI-compatible server: llama.cpp's llama-server with SmolLM2-135M.

Run with `make test-llm` (it builds llama-server once, ~8 min). The model is far too weak
to judge answers; these tests prove the protocol, streaming, citation checking and the
fallback to the extractive answer.
"""

from __future__ import annotations

import re

import pytest

from copqa.answering.answerers import CitationChecker, ExtractiveAnswerer
from copqa.answering.llm import LLMAnswerer, build_llm
from copqa.models import Chunk, ScoredChunk
from copqa.settings import LLMSettings

pytestmark = pytest.mark.llm


PASSAGES = [
    ScoredChunk(
        Chunk(
            id=f"d{i}:0", document_id=f"d{i}", source_id="s", text=text, kind="text", title=title
        ),
        0.7,
    )
    for i, (title, text) in enumerate(
        [
            ("Kraken 2", "Kraken 2 needs live Z at -1.05 mm since the nozzle swap."),
            ("Dust", "The woodshop dust bags are emptied every Friday."),
        ]
    )
]


@pytest.fixture
def answerer(server_url, embedder) -> LLMAnswerer:
    settings = LLMSettings(
        provider="openai", base_url=server_url, model="smollm2", max_tokens=60, timeout=60
    )
    return LLMAnswerer(build_llm(settings), CitationChecker(embedder), ExtractiveAnswerer(embedder))


def test_tokens_stream_from_the_server(answerer) -> None:
    pieces = list(answerer.stream("What live Z does Kraken 2 need?", PASSAGES))
    assert len(pieces) > 3
    assert "".join(pieces).strip()


def test_every_citation_in_the_checked_answer_is_valid(answerer) -> None:
    answer = answerer.answer("What live Z does Kraken 2 need?", PASSAGES)
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert numbers <= {c.n for c in answer.citations}
    if answer.answered:
        assert all(c.chunk.id in {"d0:0", "d1:0"} for c in answer.citations)


def test_an_uncited_reply_falls_back_to_quoting(server_url, embedder) -> None:
    # Asked for at most 3 tokens, the model cannot cite: copqa must quote instead.
    settings = LLMSettings(
        provider="openai", base_url=server_url, model="smollm2", max_tokens=3, timeout=60
    )
    answerer = LLMAnswerer(
        build_llm(settings), CitationChecker(embedder), ExtractiveAnswerer(embedder)
    )
    answer = answerer.answer("What live Z does Kraken 2 need since the nozzle swap?", PASSAGES)
    assert answer.answer == "Kraken 2 needs live Z at -1.05 mm since the nozzle swap [1]."
