"""The page served as `app.py` serves it, answering with the stand-in LLM's scripted reply.

`python -m tests.standin_app` with COPQA_HOME, COPQA_PORT and STANDIN_REPLY set: for tests
of what the page's API streams while an LLM writes (the only stand-in the project allows).
"""

from __future__ import annotations

import os

from copqa.offline import enforce_offline

enforce_offline()

from copqa.answering.answerers import CitationChecker, ExtractiveAnswerer  # noqa: E402
from copqa.answering.llm import LLMAnswerer  # noqa: E402
from copqa.assistant import Assistant, build_retriever  # noqa: E402
from copqa.embedding.embedder import Embedder  # noqa: E402
from copqa.settings import Settings  # noqa: E402
from copqa.store.store import Store  # noqa: E402
from tests.support.standin_llm import StandInLLM  # noqa: E402
from ui.page import build_page  # noqa: E402
from ui.services import PageServices  # noqa: E402


def main() -> None:
    settings = Settings()
    embedder = Embedder.from_settings(settings)
    store = Store(settings.home, embedder.identity, embedder.dimension)
    reply = os.environ["STANDIN_REPLY"]
    answerer = LLMAnswerer(
        StandInLLM(reply=lambda _: reply), CitationChecker(embedder), ExtractiveAnswerer(embedder)
    )
    retriever = build_retriever(settings, store, embedder)
    assistant = Assistant(settings, embedder, store, retriever, answerer)
    build_page(PageServices.open(settings, assistant)).queue().launch(
        server_name="127.0.0.1", server_port=int(os.environ["COPQA_PORT"])
    )


if __name__ == "__main__":
    main()
