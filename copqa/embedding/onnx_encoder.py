"""The embedding model run by ONNX Runtime: exported once, optionally quantised to int8, cached.

The exported graph takes the tokenizer's three arrays and returns the mean of the token
vectors over the attention mask (the model's `1_Pooling` module); the caller normalises.
Files are written under a temporary name and renamed, so a crash never leaves half a model
where a later run would load it.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from copqa.errors import ConfigError

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# "embedding" collides with a node name inside the exported BERT graph.
OUTPUT_NAME = "sentence_embedding"


class OnnxEncoder:
    """Mean-pooled sentence vectors from an ONNX export of a sentence-transformers model.

    Args:
        model_path: the sentence-transformers folder (its transformer and pooling config).
        cache_dir: where the exported files are kept between runs.
        name: the model's identity; the cached files are named after it, so changed weights
            get a fresh export.
        quantized: int8 weights (dynamic quantisation) instead of fp32.
    """

    def __init__(self, model_path: Path, cache_dir: Path, name: str, quantized: bool) -> None:
        import onnxruntime

        _check_mean_pooling(model_path)
        cache_dir.mkdir(parents=True, exist_ok=True)
        fp32 = cache_dir / f"{name}.onnx"
        if not fp32.is_file():
            export_onnx(model_path, fp32)
        self.path = fp32
        if quantized:
            self.path = cache_dir / f"{name}-int8.onnx"
            if not self.path.is_file():
                quantize_int8(fp32, self.path)
        self._session = onnxruntime.InferenceSession(
            str(self.path), providers=["CPUExecutionProvider"]
        )

    def encode(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Pooled float32 vectors (not normalised) for one tokenised, padded batch."""
        feed = {name: np.asarray(batch[name], dtype=np.int64) for name in INPUT_NAMES}
        (pooled,) = self._session.run([OUTPUT_NAME], feed)
        return np.asarray(pooled, dtype=np.float32)


def export_onnx(model_path: Path, target: Path) -> None:
    """Export the transformer plus mean pooling to `target` (atomically)."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    sample = tokenizer(
        ["an example to trace", "and a second, longer one, so that padding is present"],
        padding=True,
        return_tensors="pt",
    )
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=512)
    axes = {0: batch, 1: length}
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    # The torch.export-based exporter: the legacy TorchScript tracer bakes transformers 5's
    # data-dependent mask code into constants and gives wrong vectors for other inputs.
    # The exporter warns and logs about its own internals (missing torchvision, fallbacks).
    with warnings.catch_warnings(), _quiet("torch.onnx", "torch.export"):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            _MeanPooled(model),
            tuple(sample[name] for name in INPUT_NAMES),
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_shapes=(axes, axes, axes),
            dynamo=True,
            verbose=False,
        )
        if program is None:
            raise ConfigError(f"torch could not export the model at {model_path} to ONNX")
        program.save(str(partial), external_data=False)
    os.replace(partial, target)


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the matrix products, one scale per output channel.

    Per-channel scales keep a mean cosine of ~0.995 to fp32 on real passages; one scale per
    tensor (the library's default) gave ~0.95, and quantising the embedding table too
    lost more.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    # It logs a hint about pre-processing on the root logger; not useful here.
    with _quiet(""):
        quantize_dynamic(
            source,
            partial,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            weight_type=QuantType.QInt8,
        )
    os.replace(partial, target)


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name or None) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _check_mean_pooling(model_path: Path) -> None:
    config = model_path / "1_Pooling" / "config.json"
    pooling: dict[str, Any] = json.loads(config.read_text()) if config.is_file() else {}
    modes = {key for key, on in pooling.items() if key.startswith("pooling_mode_") and on}
    if modes != {"pooling_mode_mean_tokens"}:
        raise ConfigError(
            f"the ONNX precisions support mean pooling only; {model_path} uses "
            f"{', '.join(sorted(modes)) or 'no pooling config'}: set COPQA_EMBEDDING__PRECISION=fp32"
        )


class _MeanPooled(torch.nn.Module):
    """The transformer followed by mean pooling over the attention mask."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
