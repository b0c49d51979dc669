"""The local sentence-transformers model, loaded from a folder shipped in a package."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from tokenizers import Tokenizer

from copqa import home as layout
from copqa.embedding.chunk_text import embedding_text
from copqa.errors import ConfigError
from copqa.models import Chunk

if TYPE_CHECKING:
    from copqa.embedding.onnx_encoder import OnnxEncoder
    from copqa.settings import Settings

Precision = Literal["auto", "fp32", "bf16", "onnx-fp32", "onnx-int8"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
# CPU flags with native bfloat16 arithmetic; without them bf16 can be slower than fp32.
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


class Embedder:
    """Turns texts into unit-length vectors with one local model.

    All texts of a call go to `encode` together, so sentence-transformers can sort the
    whole batch by length: measured faster than sending fixed groups of 32.

    Safe to share between threads. A Hugging Face fast tokenizer keeps its padding and
    truncation as settings of the object, and a call with other settings changes them under
    a call running in another thread (`Unable to create tensor ...`). So counting word
    pieces and the ONNX batches each use their own copy of the tokenizer, set once and never
    changed, and the model's own tokenizer serves `encode` alone, with the one setting that
    always asks for.

    Args:
        model_path: a sentence-transformers folder.
        batch_size: texts per forward pass.
        precision: how the model computes (see `EmbeddingSettings.precision`); "auto" picks
            bf16 on CPUs with native bf16 arithmetic, else fp32.
        cache_dir: where ONNX exports are kept (`COPQA_HOME/models`); a temporary folder
            for this embedder's lifetime when None.
    """

    def __init__(
        self,
        model_path: Path,
        batch_size: int = 32,
        precision: Precision = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        import torch
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
        if precision not in PRECISIONS:
            raise ConfigError(
                f"unknown precision {precision!r}: choose from {', '.join(PRECISIONS)}"
            )
        self.precision: str = resolve_precision(precision)
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        if self.precision == "bf16":
            self._model.to(torch.bfloat16)
        self._batch_size = batch_size
        # Every precision gives the same model's vectors to within ~1e-4 cosine (int8: ~5e-3),
        # so they share one identity, and a store built at one precision is read at any other.
        self.identity = model_identity(model_path)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ConfigError(f"the model at {model_path} does not state its dimension")
        self.dimension: int = dimension
        self.max_tokens: int = self._model.max_seq_length or 256
        shared = self._model.tokenizer
        self._pieces = _own_tokenizer(shared, model_path, pad_and_truncate_to=None)
        # encode sets padding and truncation when they differ from its own; set them now,
        # so threads that embed at once never find them changing.
        self._model.preprocess(["set the tokenizer once"])
        self._onnx: OnnxEncoder | None = None
        self._onnx_batches: Tokenizer | None = None
        if self.precision.startswith("onnx-"):
            from copqa.embedding.onnx_encoder import OnnxEncoder

            if cache_dir is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="copqa-onnx-")
                cache_dir = Path(self._scratch.name)
            self._onnx = OnnxEncoder(
                model_path, cache_dir, self.identity, quantized=self.precision == "onnx-int8"
            )
            self._onnx_batches = _own_tokenizer(
                shared, model_path, pad_and_truncate_to=self.max_tokens
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        """The model, batch size and precision the settings name; exports under COPQA_HOME."""
        options = settings.embedding
        return cls(
            options.resolved_model_path(),
            options.batch_size,
            options.precision,
            settings.home / layout.MODELS,
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._onnx is not None and self._onnx_batches is not None:
            vectors = self._embed_onnx(self._onnx, self._onnx_batches, texts)
        else:
            encoded = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
            vectors = encoded.float().numpy()
        # bf16 and int8 vectors come out with norms of 0.996-1.004: dot products must be cosines.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def _embed_onnx(
        self, encoder: OnnxEncoder, tokenizer: Tokenizer, texts: list[str]
    ) -> np.ndarray:
        # Longest first, as sentence-transformers does, so each batch pads little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in rows])
            batch = {
                "input_ids": np.array([e.ids for e in encodings]),
                "attention_mask": np.array([e.attention_mask for e in encodings]),
                "token_type_ids": np.array([e.type_ids for e in encodings]),
            }
            vectors[rows] = encoder.encode(batch)
        return vectors

    def embed_chunks(self, chunks: Sequence[Chunk]) -> np.ndarray:
        """Passage vectors of stored chunks, each read as `embedding_text` gives it."""
        return self.embed([embedding_text(c) for c in chunks])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def tokenize(self, text: str) -> list[str]:
        """The model's word pieces, without the special tokens it adds; never cut short."""
        return self._pieces.encode(text, add_special_tokens=False).tokens


def _own_tokenizer(shared: Any, model_path: Path, pad_and_truncate_to: int | None) -> Tokenizer:
    """A copy of the model's fast tokenizer, padding and truncating as asked, never changed.

    With `pad_and_truncate_to` None it neither pads nor cuts (for counting); else it cuts at
    that many pieces and pads each batch to its longest text, as the model's own call does.
    """
    backend = getattr(shared, "backend_tokenizer", None)
    if not isinstance(backend, Tokenizer):
        raise ConfigError(
            f"the model at {model_path} has no fast (Rust) tokenizer: copqa needs one, "
            "a tokenizer.json in the model folder"
        )
    tokenizer = Tokenizer.from_str(backend.to_str())
    if pad_and_truncate_to is None:
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return tokenizer
    tokenizer.enable_truncation(pad_and_truncate_to, direction=shared.truncation_side)
    tokenizer.enable_padding(
        direction=shared.padding_side,
        pad_id=shared.pad_token_id,
        pad_type_id=shared.pad_token_type_id,
        pad_token=shared.pad_token,
    )
    return tokenizer


def resolve_precision(precision: Precision) -> str:
    """The precision "auto" stands for on this CPU; any other is returned as is."""
    if precision != "auto":
        return precision
    return "bf16" if _cpu_flags() & _BF16_FLAGS else "fp32"


def _cpu_flags() -> set[str]:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no cheap way to know, and fp32 is never slow
        return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def model_dimension(model_path: Path) -> int | None:
    """The length of the model's vectors, read from its folder without loading its weights.

    As sentence-transformers decides it: the last module that states one (a Dense layer's
    `out_features`, a Pooling layer's `word_embedding_dimension`); None if none does.
    """
    try:
        modules = json.loads((model_path / "modules.json").read_text())
        for module in reversed(modules):
            config = model_path / module.get("path", "") / "config.json"
            if module.get("path") and config.is_file():
                stated = json.loads(config.read_text())
                for key in ("out_features", "word_embedding_dimension"):
                    if isinstance(stated.get(key), int):
                        return int(stated[key])
    except (OSError, ValueError, AttributeError):
        return None
    return None


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
