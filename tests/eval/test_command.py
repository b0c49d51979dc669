"""`copqa eval` end to end, as a maintainer runs it: reports, history, the gate, BEIR, builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_copqa
from tests.support.files import write_files
from tests.support.paths import REPO

SAMPLE = REPO / "sample"


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory) -> Path:
    """A store of the sample community: its cases file was never used to tune copqa."""
    home = tmp_path_factory.mktemp("eval-home")
    ingested = run_copqa(home, "ingest", str(SAMPLE / "docs"), str(SAMPLE / "slack"))
    assert ingested.returncode == 0, ingested.stderr
    return home


def test_eval_run_writes_three_reports_and_records_the_run(sample_home: Path, tmp_path: Path):
    out = tmp_path / "report"
    result = run_copqa(sample_home, "eval", "run", str(SAMPLE / "cases.jsonl"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} >= {"report.json", "report.md", "report.html"}
    report = json.loads((out / "report.json").read_text())
    metrics = report["metrics"]
    assert report["kind"] == "cases" and metrics["cases"] == 12 and report["k"] == 5
    assert metrics["invalid_citations"] == 0
    assert metrics["recall@5"] >= 0.8 and metrics["accuracy"] >= 0.5
    assert metrics["experts_hit@3"] is not None  # the sample's cases name experts
    assert len(report["curve"]) == 21 and len(report["cases_detail"]) == 12
    assert "coverage" in result.stdout and str(out) in result.stdout
    # The Maintainers tab reads the latest run from the catalog's history.
    from copqa.community.activity import ActivityLog
    from copqa.store.database import SQLiteDatabase
    from ui.maintainers_tab import latest_report_markdown

    database = SQLiteDatabase(sample_home / "catalog.sqlite3")
    runs = ActivityLog(database).evaluations()
    database.close()
    assert runs[0].folder == str(out.resolve()) and runs[0].metrics["cases"] == 12
    assert latest_report_markdown(runs).startswith((out / "report.md").read_text())


def test_the_gate_fails_a_broken_configuration_and_passes_the_default(
    sample_home: Path, tmp_path: Path
):
    gate = "--fail-under=recall@5=0.8,abstention=0.5"
    cases = str(SAMPLE / "cases.jsonl")
    good = run_copqa(sample_home, "eval", "run", cases, "--out", str(tmp_path / "good"), gate)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = run_copqa(
        sample_home, "eval", "run", cases, "--k", "0", "--out", str(tmp_path / "broken"), gate,
        "--compare", str(tmp_path / "good/report.json"),
    )  # fmt: skip
    assert broken.returncode == 1
    assert "FAIL: recall@5 = 0, below the limit 0.8" in broken.stderr
    assert "change since" in broken.stdout and "coverage" in broken.stdout


def test_a_case_file_with_an_incomplete_case_is_refused_clearly(sample_home: Path, tmp_path: Path):
    cases = write_files(tmp_path, {"cases.jsonl": '{"id": "gap-1", "question": "Wi-Fi?", '
                                                  '"answerable": null}\n'})  # fmt: skip
    result = run_copqa(sample_home, "eval", "run", str(cases / "cases.jsonl"))
    assert result.returncode == 1
    assert "error: cases.jsonl, line 1: case gap-1 has no answerable" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_beir_reports_each_retriever(tmp_path: Path) -> None:
    corpus = [
        {"_id": "d1", "title": "Kiln", "text": "The ceramics kiln is fired on Thursdays only."},
        {
            "_id": "d2",
            "title": "Lathe",
            "text": "The lathe chuck key hangs on a chain by the lathe.",
        },
        {
            "_id": "d3",
            "title": "Laser",
            "text": "Never cut PVC on the laser: it releases chlorine.",
        },
    ]
    queries = [
        {"_id": "q1", "text": "when is the kiln fired"},
        {"_id": "q2", "text": "can I laser PVC"},
    ]
    folder = write_files(tmp_path / "tiny", {
        "corpus.jsonl": "".join(json.dumps(row) + "\n" for row in corpus),
        "queries.jsonl": "".join(json.dumps(row) + "\n" for row in queries),
        "qrels.tsv": "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n",
    })  # fmt: skip
    home, out = tmp_path / "home", tmp_path / "out"
    result = run_copqa(home, "eval", "beir", str(folder), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert {"dense", "keyword (BM25)", "hybrid (default)"} <= figures.keys()
    assert figures["hybrid (default)"]["ndcg@10"] == 1.0
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "beir" and report["queries"] == 2 and report["corpus"] == 3
    assert (out / "report.html").read_text().count("<img") >= 1


def test_unanswered_questions_export_as_cases_to_complete(sample_home: Path, tmp_path: Path):
    from copqa.community.activity import ActivityLog
    from copqa.store.database import SQLiteDatabase

    database = SQLiteDatabase(sample_home / "catalog.sqlite3")
    ActivityLog(database).record_question(
        "anonymous:1", "Does the guild run welding courses?", False, 0.1, []
    )
    database.close()
    out = tmp_path / "gaps.jsonl"
    result = run_copqa(sample_home, "eval", "build", "--from-gaps", "--out", str(out))
    assert result.returncode == 0, result.stderr
    cases = [json.loads(line) for line in out.read_text().splitlines()]
    assert any(c["question"] == "Does the guild run welding courses?" for c in cases)
    assert all(c["answerable"] is None for c in cases)
