"""Wires the stages together: `Assistant.from_settings(settings).ask(question)`."""

from __future__ import annotations

from copqa.answering import Answerer, PassageAnswerer
from copqa.embedding import Embedder
from copqa.models import Answer
from copqa.retrieval import DenseRetriever, Retriever
from copqa.settings import Settings
from copqa.store import Store


class Assistant:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: Store,
        retriever: Retriever,
        answerer: Answerer,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self._retriever = retriever
        self._answerer = answerer

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        embedder = Embedder(
            settings.embedding.resolved_model_path(), batch_size=settings.embedding.batch_size
        )
        store = Store(settings.home, embedder.identity, embedder.dimension)
        return cls(settings, embedder, store, DenseRetriever(store, embedder), PassageAnswerer())

    def ask(self, question: str, k: int | None = None) -> Answer:
        passages = self._retriever.retrieve(question, k or self.settings.retrieval.top_k)
        return self._answerer.answer(question, passages)

    def close(self) -> None:
        self.store.close()
