"""Server mode: the vectors on a real `chroma run`, answers identical to the embedded store."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from copqa.assistant import Assistant
from copqa.errors import ModelMismatchError, StoreError
from copqa.models import Answer
from copqa.settings import ChromaSettings, Settings
from copqa.store.store import Store
from eval.bench.app_server import refused_port
from ingest.factory import build_pipeline
from tests.support.chroma_server import running_chroma
from tests.support.cli import run_copqa
from tests.support.paths import REPO

SAMPLE = REPO / "sample"
COLLECTION = "makerspace_chunks"


@dataclass(frozen=True)
class Homes:
    url: str
    embedded: Path
    served: Path


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    with running_chroma(tmp_path_factory.mktemp("chroma-server") / "db") as url:
        yield url


@pytest.fixture(scope="module")
def homes(chroma_url: str, embedder, tmp_path_factory) -> Homes:
    """The sample community ingested twice: embedded, and into the server."""
    base = tmp_path_factory.mktemp("homes")
    embedded, served = base / "embedded", base / "served"
    for home, chroma in (
        (embedded, ChromaSettings()),
        (served, ChromaSettings(url=chroma_url, collection=COLLECTION)),
    ):
        settings = Settings(home=home, chroma=chroma)
        store = Store(home, embedder.identity, embedder.dimension, chroma=settings.chroma)
        report = build_pipeline(settings, store, embedder).ingest(
            [SAMPLE / "docs", SAMPLE / "slack"]
        )
        assert not report.failed, report.failed
        store.close()
    return Homes(chroma_url, embedded, served)


def _questions() -> list[str]:
    """Five answerable questions of the sample and one it cannot answer: enough to compare."""
    cases = [json.loads(line) for line in (SAMPLE / "cases.jsonl").read_text("utf-8").splitlines()]
    answerable = [c["question"] for c in cases if c["answerable"]]
    return [*answerable[:5], next(c["question"] for c in cases if not c["answerable"])]


def _ask_all(settings: Settings, embedder, questions: list[str]) -> list[Answer]:
    store = Store(settings.home, embedder.identity, embedder.dimension, chroma=settings.chroma)
    try:
        assistant = Assistant.on_store(settings, embedder, store)
        return [assistant.ask(q) for q in questions]
    finally:
        store.close()


def _assert_same(served: Answer, embedded: Answer) -> None:
    assert served.answer == embedded.answer
    assert served.answered == embedded.answered
    assert served.confidence == pytest.approx(embedded.confidence, abs=1e-4)
    assert [c.chunk.id for c in served.citations] == [c.chunk.id for c in embedded.citations]
    assert [s.chunk.id for s in served.retrieved] == [s.chunk.id for s in embedded.retrieved]
    for mine, theirs in zip(served.retrieved, embedded.retrieved, strict=True):
        assert mine.score == pytest.approx(theirs.score, abs=1e-4)


def test_the_server_holds_the_vectors_and_gives_the_same_answers(homes: Homes, embedder) -> None:
    served = Settings(
        home=homes.served, chroma=ChromaSettings(url=homes.url, collection=COLLECTION)
    )
    embedded = Settings(home=homes.embedded)
    questions = _questions()
    on_server = _ask_all(served, embedder, questions)
    on_disk = _ask_all(embedded, embedder, questions)

    assert not (homes.served / "chroma").exists()  # nothing embedded beside the catalog
    assert sum(a.answered for a in on_disk) >= 4  # the comparison covers real answers
    for server_answer, disk_answer in zip(on_server, on_disk, strict=True):
        _assert_same(server_answer, disk_answer)


def test_copqa_chroma_url_in_the_environment_is_followed(
    homes: Homes, embedder, monkeypatch
) -> None:
    monkeypatch.setenv("COPQA_HOME", str(homes.served))
    monkeypatch.setenv("COPQA_CHROMA__URL", homes.url)
    monkeypatch.setenv("COPQA_CHROMA__COLLECTION", COLLECTION)
    settings = Settings()
    assert settings.chroma == ChromaSettings(url=homes.url, collection=COLLECTION)
    assistant = Assistant.from_settings(settings)
    try:
        question = _questions()[0]
        served = assistant.ask(question)
    finally:
        assistant.close()
    (embedded,) = _ask_all(Settings(home=homes.embedded), embedder, [question])
    _assert_same(served, embedded)


def test_communities_share_a_server_in_their_own_collections(
    homes: Homes, embedder, tmp_path: Path
) -> None:
    other = Store(
        tmp_path / "other",
        embedder.identity,
        embedder.dimension,
        chroma=ChromaSettings(url=homes.url, collection="other_community"),
    )
    assert other.vector_count() == 0
    other.close()
    with pytest.raises(ModelMismatchError, match="COPQA_CHROMA__COLLECTION"):
        Store(
            tmp_path / "mismatch",
            "another-model@000",
            embedder.dimension,
            chroma=ChromaSettings(url=homes.url, collection=COLLECTION),
        )


def test_a_server_nobody_runs_is_a_clear_and_quick_error(embedder, tmp_path: Path) -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        with pytest.raises(StoreError) as raised:
            Store(
                tmp_path / "home",
                embedder.identity,
                embedder.dimension,
                chroma=ChromaSettings(url=url),
            )
        assert time.monotonic() - started < 3
    message = str(raised.value)
    assert message.startswith(f"cannot reach the Chroma server at {url}: ")
    assert "`chroma run --path DIR --port PORT` or unset COPQA_CHROMA__URL" in message


def test_a_server_that_never_answers_fails_within_seconds(embedder, tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog does) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot reach the Chroma server"):
            Store(tmp_path / "home", embedder.identity, embedder.dimension, ChromaSettings(url=url))
        assert time.monotonic() - started < 10


def test_a_server_that_stops_mid_run_is_a_store_error(embedder, tmp_path: Path) -> None:
    with running_chroma(tmp_path / "db") as url:
        store = Store(
            tmp_path / "home", embedder.identity, embedder.dimension, ChromaSettings(url=url)
        )
    with pytest.raises(StoreError, match=f"cannot reach the Chroma server at {url}"):
        store.vector_count()
    store.close()


def test_the_cli_reports_an_unreachable_server_without_a_traceback(tmp_path: Path) -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}"
        asked = run_copqa(tmp_path / "home", "ask", "anything?", env={"COPQA_CHROMA__URL": url})
    assert asked.returncode == 1
    assert asked.stderr.startswith(f"error: cannot reach the Chroma server at {url}")
    assert "Traceback" not in asked.stderr
