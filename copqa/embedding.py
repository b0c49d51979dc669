"""The local sentence-transformers model, loaded from a folder shipped in a package."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from copqa.errors import ConfigError


class Embedder:
    """Turns texts into unit-length vectors with one local model.

    All texts of a call go to `encode` together, so sentence-transformers can sort the
    whole batch by length: measured faster than sending fixed groups of 32.
    """

    def __init__(self, model_path: Path, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        # Chunking counts pieces of whole texts to cut them; only the model call truncates.
        transformers_logging.set_verbosity_error()
        if not (model_path / "config.json").is_file():
            raise ConfigError(
                f"no embedding model at {model_path}: set COPQA_EMBEDDING__MODEL_PATH to a "
                "sentence-transformers folder, or leave it empty for the packaged model"
            )
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self._batch_size = batch_size
        self.identity = model_identity(model_path)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ConfigError(f"the model at {model_path} does not state its dimension")
        self.dimension: int = dimension
        self.max_tokens: int = self._model.max_seq_length or 256

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def tokenize(self, text: str) -> list[str]:
        """The model's word pieces, without the special tokens it adds."""
        return self._model.tokenizer.tokenize(text)


def model_identity(model_path: Path) -> str:
    """A name for the model that changes when its weights or configuration change."""
    name = model_path.parent.name if model_path.name == "model" else model_path.name
    digest = hashlib.sha256()
    for part in ("config.json", "modules.json"):
        config = model_path / part
        if config.is_file():
            digest.update(config.read_bytes())
    for weights in sorted(model_path.glob("*.safetensors")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{name}@{digest.hexdigest()[:12]}"
