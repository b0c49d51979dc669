"""Finding the passages that answer a question."""

from __future__ import annotations

from typing import Protocol

from copqa.embedding import Embedder
from copqa.models import ScoredChunk
from copqa.store import Store


class Retriever(Protocol):
    def retrieve(self, question: str, k: int) -> list[ScoredChunk]: ...


class DenseRetriever:
    """Nearest chunks by cosine similarity of the question's embedding."""

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder

    def retrieve(self, question: str, k: int) -> list[ScoredChunk]:
        return self._store.search(self._embedder.embed_query(question), k)
