"""Fixtures of the answering tests: a poisoned community, a real local LLM server."""

from __future__ import annotations

import pytest

from copqa.settings import Settings
from copqa.store import Store
from ingest.factory import build_pipeline
from tests.support.llama_server import running_llama_server
from tests.support.poisoned import POSTS, write_poisoned_export


@pytest.fixture(scope="module")
def server_url():
    """The real llama-server, for the `llm` tests."""
    with running_llama_server() as url:
        yield url


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory, embedder):
    """A store holding the poisoned export (`tests/support/poisoned.py`)."""
    home = tmp_path_factory.mktemp("poisoned-home")
    export = home.parent / f"{home.name}-guild.jsonl"
    write_poisoned_export(export)
    settings = Settings(home=home)
    store = Store(settings.home, embedder.identity, embedder.dimension)
    report = build_pipeline(settings, store, embedder).ingest([export])
    assert report.failed == [] and report.added == len(POSTS)
    yield settings, store
    store.close()
