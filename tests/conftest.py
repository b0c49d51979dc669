"""Shared fixtures: real data beside the checkout, and an offline environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ[_name] = _value

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real community exports in ../shared/data (read-only: never write there)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data missing: {SHARED_DATA} (clone beside ../shared)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def embedder():
    """The real packaged model, loaded once for the whole run."""
    from copqa.embedding import Embedder
    from copqa.settings import EmbeddingSettings

    return Embedder(EmbeddingSettings().resolved_model_path())


@pytest.fixture
def settings(tmp_path: Path):
    from copqa.settings import Settings

    return Settings(home=tmp_path / "home")


@pytest.fixture
def store(settings, embedder):
    from copqa.store import Store

    opened = Store(settings.home, embedder.identity, embedder.dimension)
    yield opened
    opened.close()


@pytest.fixture
def pipeline(settings, store, embedder):
    from ingest.factory import build_pipeline

    return build_pipeline(settings, store, embedder)
