"""Killing an ingestion mid-way and running it again ends exactly as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from copqa.store import Store
from tests.cli import COPQA, run_copqa

SMALL_BATCHES = {"COPQA_INGEST__EMBED_BATCH": "8"}  # many commits, so a kill lands between them


def documents_stored(home: Path) -> int:
    try:
        with sqlite3.connect(f"file:{home / 'catalog.sqlite3'}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def kill_when(home: Path, sources: list[str], documents: int) -> None:
    """Start an ingestion and SIGKILL it once `documents` documents are committed."""
    env = {**os.environ, "COPQA_HOME": str(home), **SMALL_BATCHES}
    process = subprocess.Popen([str(COPQA), "ingest", *sources], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while documents_stored(home) < documents and process.poll() is None:
        assert time.monotonic() < deadline, "ingestion made no progress"
        time.sleep(0.02)
    assert process.poll() is None, "ingestion finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()


def snapshot(home: Path, embedder) -> dict[str, object]:
    store = Store(home, embedder.identity, embedder.dimension)
    db = sqlite3.connect(home / "catalog.sqlite3")
    state = {
        "documents": db.execute("SELECT id, content_hash FROM documents ORDER BY id").fetchall(),
        "chunks": db.execute("SELECT id, text, metadata FROM chunks ORDER BY id").fetchall(),
        "sources": db.execute("SELECT id, locator FROM sources ORDER BY id").fetchall(),
        "vectors": sorted(store.vectors.ids()),
    }
    db.close()
    store.close()
    return state


def test_killed_ingestions_converge(tmp_path: Path, shared_data: Path, embedder) -> None:
    docs = shared_data / "r-contributors/docs"
    sources = [str(docs / "collaboration_campfires"), str(docs / "working_documents")]
    reference = tmp_path / "reference"
    assert run_copqa(reference, "ingest", *sources, env=SMALL_BATCHES).returncode == 0
    expected = snapshot(reference, embedder)
    assert len(expected["documents"]) == 15

    interrupted = tmp_path / "interrupted"
    for documents in (3, 9):  # two kills at different depths of the same run
        kill_when(interrupted, sources, documents)
    assert 0 < documents_stored(interrupted) < 15
    rerun = run_copqa(interrupted, "ingest", *sources, env=SMALL_BATCHES)
    assert rerun.returncode == 0, rerun.stderr

    actual = snapshot(interrupted, embedder)
    assert actual == expected
    assert actual["vectors"] == [chunk_id for chunk_id, _, _ in actual["chunks"]]
