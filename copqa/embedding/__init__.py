"""The embedding model: passages and questions as vectors, and what it reads of a chunk."""

from copqa.embedding.chunk_text import embedding_text
from copqa.embedding.embedder import (
    Embedder,
    Precision,
    model_dimension,
    model_identity,
    resolve_precision,
)

__all__ = [
    "Embedder",
    "Precision",
    "embedding_text",
    "model_dimension",
    "model_identity",
    "resolve_precision",
]
