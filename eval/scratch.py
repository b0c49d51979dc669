"""A throw-away store holding one JSONL corpus, for evaluations that bring their own."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from copqa.assistant import Assistant
from copqa.embedding import Embedder
from copqa.settings import Settings
from copqa.store import Store
from ingest.factory import build_pipeline


@contextmanager
def scratch_assistant(
    corpus: Path, embedder: Embedder | None = None, settings: Settings | None = None
) -> Iterator[Assistant]:
    """An assistant over a temporary store of `corpus`; raises if any of it fails to ingest."""
    with tempfile.TemporaryDirectory(prefix="copqa-scratch-") as home:
        base = (settings or Settings()).model_copy(update={"home": Path(home)})
        model = embedder or Embedder.from_settings(base)
        store = Store(base.home, model.identity, model.dimension)
        try:
            report = build_pipeline(base, store, model).ingest([corpus], kind="jsonl")
            if report.failed:
                raise RuntimeError(f"the corpus did not ingest cleanly: {report.failed[:3]}")
            assistant = Assistant.on_store(base, model, store)
            assistant.retrain_reranker()  # as `copqa ingest` does
            yield assistant
        finally:
            store.close()
