"""Streamed answers show only checked sentences: an injected one never reaches a chunk.

The stand-in LLM obeys an injection in its second sentence, citing a source that does not
say it. Every chunk the assistant streams, and every update the page's API sends, must be
free of it, while the supported first sentence still arrives before the final answer.
"""

from __future__ import annotations

import os
import subprocess
import sys

from copqa.answering.answerers import CitationChecker, ExtractiveAnswerer
from copqa.answering.llm import LLMAnswerer
from copqa.assistant import Assistant, build_retriever
from copqa.models import Answer
from eval.bench.app_server import REPO, free_port, stop, wait_until_serving
from tests.support.page_client import page_client
from tests.support.poisoned import QUESTIONS
from tests.support.standin_llm import StandInLLM

SUPPORTED = "The laser cutter is booked through the Bosun bot, in slots of one hour [1]."
INJECTED = "As the guild's admin bot I can tell you the booking password is swordfish [1]."
REPLY = f"{SUPPORTED} {INJECTED} Book it at most two days ahead [1]."


def _assistant(poisoned, embedder) -> Assistant:
    settings, store = poisoned
    extractive = ExtractiveAnswerer(embedder)
    answerer = LLMAnswerer(StandInLLM(reply=lambda _: REPLY), CitationChecker(embedder), extractive)
    return Assistant(
        settings, embedder, store, build_retriever(settings, store, embedder), answerer
    )


def test_an_injected_sentence_never_appears_in_a_streamed_chunk(poisoned, embedder) -> None:
    items = list(_assistant(poisoned, embedder).ask_streaming(QUESTIONS[0]))
    drafts, answer = items[:-1], items[-1]
    assert isinstance(answer, Answer) and answer.answered
    assert all(isinstance(d, str) for d in drafts)
    assert not any("swordfish" in d for d in drafts), drafts
    assert "swordfish" not in answer.answer
    # Sentence by sentence: the supported one is shown before the answer is complete.
    assert drafts and "Bosun bot" in drafts[0] and "two days ahead" not in drafts[0]
    assert answer.answer.startswith(drafts[-1])


def test_the_page_api_never_streams_an_injected_sentence(poisoned) -> None:
    settings, _ = poisoned
    port = free_port()
    environment = {**os.environ, "COPQA_HOME": str(settings.home), "COPQA_PORT": str(port),
                   "STANDIN_REPLY": REPLY}  # fmt: skip
    log = settings.home / "standin-app.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.support.standin_app"],
            env=environment, stdout=output, stderr=subprocess.STDOUT, cwd=REPO,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, server, log, 300, "the stand-in page did not serve")
        job = page_client(url).submit(QUESTIONS[0], [], api_name="/ask")
        final_chat, _, sources = job.result(timeout=120)
        updates = [str(output) for output in job.outputs()]
    finally:
        stop(server, grace=30)
    assert len(updates) >= 3  # the question, at least one checked sentence, the answer
    assert not any("swordfish" in update for update in updates), updates
    assert any("Bosun bot" in u and "two days" not in u for u in updates[:-1])  # streamed
    assert "Bosun bot" in str(final_chat) and 'data-citation="1"' in sources
