"""`copqa tune`: the fit on a community's solved threads, which threads count, and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copqa.answering.confidence import Signals
from copqa.assistant import Assistant
from copqa.models import Document, Post
from copqa.retrieval.reranking import reranker_path
from copqa.settings import Settings
from copqa.tuning.calibration import (
    MIN_THREADS,
    Example,
    calibration_path,
    curve_path,
    fit,
    solved_questions,
)
from tests.support.cli import run_copqa
from tests.support.solved_threads import solved_threads


def test_coverage_that_separates_the_labels_gets_a_positive_weight() -> None:
    # Same similarities for both labels: only coverage tells a right answer from a wrong one.
    examples = [
        Example(Signals(0.6 + 0.01 * (n % 5), 0.6 + 0.01 * (n % 3), coverage), label)
        for n in range(20)
        for coverage, label in ((0.8 + 0.01 * (n % 7), True), (0.2 + 0.01 * (n % 7), False))
    ]
    tuning = fit(examples, threads=20, fitted_on="20 solved threads of a test")
    calibration = tuning.calibration
    assert calibration.coverage_weight > 0
    assert tuning.examples == 40 and calibration.fitted_on == "20 solved threads of a test"
    high = calibration.confidence(Signals(0.62, 0.61, 0.83))
    low = calibration.confidence(Signals(0.62, 0.61, 0.23))
    assert low < calibration.threshold <= high


class _Threads:
    """The store's side of tuning, over threads given in the test."""

    def __init__(self, documents: list[Document]) -> None:
        self._documents = {d.id: d for d in documents}

    def discussion_ids(self) -> list[str]:
        return list(self._documents)

    def discussion(self, document_id: str) -> Document | None:
        return self._documents.get(document_id)


def _thread(doc_id: str, *posts: tuple[str, str], title: str = "") -> Document:
    return Document(
        id=doc_id, kind="slack", title=title or posts[0][1][:40], channel="#help",
        posts=tuple(Post(id=f"{doc_id}-{n}", author_id=a, author_name=a, text=t)
                    for n, (a, t) in enumerate(posts)),
    )  # fmt: skip


ANSWER = "Set the live Z offset to -1.05 mm after the nozzle swap, then reprint."


def test_solved_questions_keep_asked_threads_answered_by_someone_else() -> None:
    threads = [
        _thread("solved", ("ines", "How do I fix the first layer on the Kraken?"), ("tom", ANSWER)),
        _thread("self", ("ines", "How do I fix the first layer on the Kraken?"), ("ines", ANSWER)),
        _thread("tip", ("ines", "The new filament shelf is by the door, next to the bins."),
                ("tom", ANSWER)),
        _thread("short", ("ines", "Why does the laser smell of smoke today?"), ("tom", "No idea.")),
        _thread("alone", ("ines", "Why does the laser smell of smoke today?")),
        *(_thread(f"more{n}", ("ines", f"How do I book tool {n} for the weekend?"), ("tom", ANSWER))
          for n in range(6)),
    ]  # fmt: skip
    found = solved_questions(_Threads(threads))
    assert {t for t, _ in found} == {"solved", *(f"more{n}" for n in range(6))}
    assert dict(found)["solved"] == "How do I fix the first layer on the Kraken?"
    assert found == solved_questions(_Threads(threads))  # the same sample every run


def test_tune_with_too_few_threads_keeps_the_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ingested = run_copqa(home, "ingest", str(solved_threads(tmp_path / "few", 5)))
    assert ingested.returncode == 0, ingested.stderr
    assert f"re-ranker: not trained: fewer than {MIN_THREADS} solved threads" in ingested.stdout
    # Ingesting never changes when to abstain: only `copqa tune --abstention` does.
    assert not calibration_path(home).exists()
    tuned = run_copqa(home, "tune", "--abstention")
    assert tuned.returncode == 0, tuned.stderr
    assert f"not refitted: fewer than {MIN_THREADS} solved threads" in tuned.stdout
    assert not calibration_path(home).exists() and not curve_path(home).exists()
    assert not reranker_path(home).exists()


def test_tune_fits_saves_is_used_and_resets(pipeline, store, settings, tmp_path: Path) -> None:
    report = pipeline.ingest([solved_threads(tmp_path / "many", 45)])
    assert report.failed == [] and report.added == 45
    store.close()  # the command opens the home itself
    home = settings.home
    assert not calibration_path(home).exists()
    plain = run_copqa(home, "tune")  # the re-ranker alone
    assert plain.returncode == 0, plain.stderr
    assert "re-ranker: trained on 45 solved threads" in plain.stdout
    assert reranker_path(home).exists() and not calibration_path(home).exists()
    tuned = run_copqa(home, "tune", "--abstention")
    assert tuned.returncode == 0, tuned.stderr
    assert "calibration: fitted on 45 solved threads" in tuned.stdout
    saved = json.loads(calibration_path(home).read_text())
    assert saved["fitted_on"] == "45 solved threads of this community"
    assert json.loads(curve_path(home).read_text())["threads"] == 45
    assistant = Assistant.from_settings(Settings(home=home))
    try:
        assert "solved threads" in assistant.extractive.calibration.fitted_on
        expected = assistant.ask("How do I clean the lathe?").confidence
    finally:
        assistant.close()
    asked = run_copqa(home, "ask", "--json", "How do I clean the lathe?")
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["confidence"] == pytest.approx(expected, abs=1e-3)

    calibration_path(home).write_text('{"sentence_weight": 8.6, "bias"', encoding="utf-8")
    damaged = run_copqa(home, "ask", "How do I clean the lathe?")
    assert damaged.returncode == 1
    assert damaged.stderr.startswith("error: cannot read the calibration")
    assert "copqa tune" in damaged.stderr and "Traceback" not in damaged.stderr

    calibration_path(home).unlink()
    reranker_path(home).write_text('{"weights": [1.0], "mean": [0.0], "scale": [1.0]}')
    other = run_copqa(home, "ask", "How do I clean the lathe?")
    assert other.returncode == 1 and "Traceback" not in other.stderr
    assert other.stderr.startswith("error: the re-ranker") and "copqa tune" in other.stderr

    reset = run_copqa(home, "tune", "--reset")
    assert reset.returncode == 0, reset.stderr
    assert not calibration_path(home).exists() and not reranker_path(home).exists()
