"""Chroma, embedded on disk: chunk vectors and their flat metadata, nothing else.

Chroma never embeds here: every write passes `embeddings=` and every query
`query_embeddings=` (its default embedder would try to download a model).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from copqa.errors import ModelMismatchError, StoreError

COLLECTION = "copqa_chunks"


class ChromaVectors:
    """One cosine-space collection that records which embedding model filled it."""

    def __init__(self, path: Path, model_identity: str, dimension: int) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        try:
            self._client = chromadb.PersistentClient(
                path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
            )
            self._collection = self._client.get_or_create_collection(
                COLLECTION,
                configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
                metadata={"embedding_model": model_identity, "dimension": dimension},
                embedding_function=None,
            )
        except Exception as exc:  # chromadb raises many unrelated types for a bad folder
            raise StoreError(
                f"the vector store at {path} cannot be opened ({exc}); "
                "`copqa rebuild` recreates it from the catalog"
            ) from exc
        built_with = (self._collection.metadata or {}).get("embedding_model")
        if built_with != model_identity:
            raise ModelMismatchError(
                f"the store at {path} was built with the embedding model {built_with!r}, "
                f"not {model_identity!r}: use that model, or ingest into a new COPQA_HOME"
            )
        self._max_batch = self._client.get_max_batch_size()

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=list(metadatas[start:end]),
            )

    def delete(self, ids: Iterable[str]) -> None:
        wanted = list(ids)
        for start in range(0, len(wanted), self._max_batch):
            self._collection.delete(ids=wanted[start : start + self._max_batch])

    def ids(self) -> set[str]:
        found: set[str] = set()
        offset, page = 0, 10_000
        while batch := self._collection.get(include=[], limit=page, offset=offset)["ids"]:
            found.update(batch)
            offset += page
        return found

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        found = self._collection.get(ids=list(ids), include=["embeddings"])
        embeddings = found["embeddings"] if found["embeddings"] is not None else []
        return {
            cid: np.asarray(v, dtype=np.float32)
            for cid, v in zip(found["ids"], embeddings, strict=True)
        }

    def count(self) -> int:
        return self._collection.count()

    def query(
        self, vector: np.ndarray, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """The k nearest chunk ids with their cosine similarity, best first."""
        if k <= 0 or self._collection.count() == 0:
            return []
        result = self._collection.query(
            query_embeddings=vector.reshape(1, -1),
            n_results=k,
            where=where,
            include=["distances"],
        )
        distances = (result["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], distances, strict=True)]
