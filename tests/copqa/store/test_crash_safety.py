"""SIGKILL at random points of a change, then the same command again: the store ends as if
nothing had been killed.

Three changes of a real Discord export (its first 300 of 520 messages, 175 threads, to keep
the module's time down): ingesting it, forgetting its most active member (each of the threads
they wrote in is re-chunked), deleting it. Each runs once to the end, which gives the
reference store and the change's duration. Then, on a fresh copy, it is killed at KILLS
points drawn from a seeded generator, every run resuming what the previous one left, and
finally run to the end. The catalog's rows, the vector ids and the vectors must then be
those of the reference.

A point is a fraction of the change's progress as another process sees it in the catalog
(documents stored, the member's posts left, the source's documents left), plus a random
delay of about one commit's time, so a kill lands anywhere between two commits (while
embedding, writing vectors, committing), whatever the machine's load. Kills happen only
once the process holds the store's change mark: never while it loads the model.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from copqa.embedding.embedder import model_dimension, model_identity
from copqa.settings import Settings
from copqa.store.store import Store
from tests.support.cli import COPQA, run_copqa

SEED = 20261129
KILLS = 5
EXPORT = "discord-ethglobal"
MESSAGES = 300  # of the export's 520
MEMBER = "hirugohan"  # the most active poster of those messages
SMALL_BATCHES = {"COPQA_INGEST__EMBED_BATCH": "8"}  # many commits, so kills land between them
CHANGE_MARK = "unfinished_run"  # the meta row `Store.changing` holds while a change runs

# What must match the reference: every catalog row but timestamps.
TABLES = {
    "sources": "SELECT id, kind, locator, uploader, fingerprint FROM sources ORDER BY id",
    "documents": "SELECT id, source_id, kind, title, path, url, channel, author, created_at, "
    "content_hash FROM documents ORDER BY id",
    "posts": "SELECT * FROM posts ORDER BY id",
    "chunks": "SELECT id, document_id, seq, text, metadata FROM chunks ORDER BY id",
    "forgotten": "SELECT key FROM forgotten ORDER BY key",
}

Progress = Callable[[Path], int]


def read_catalog(home: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
    """Rows of the catalog, read-only as another process sees them; none if there is none."""
    try:
        uri = f"file:{home / 'catalog.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            return db.execute(sql, params).fetchall()
    except sqlite3.Error:
        return []


def count(home: Path, sql: str, params: tuple[object, ...] = ()) -> int:
    rows = read_catalog(home, sql, params)
    return int(rows[0][0]) if rows else 0


def documents(home: Path) -> int:
    return count(home, "SELECT count(*) FROM documents")


def member_posts(home: Path) -> int:
    return count(home, "SELECT count(*) FROM posts WHERE author_name = ?", (MEMBER,))


def start(home: Path, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "COPQA_HOME": str(home), **SMALL_BATCHES}
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [str(COPQA), *args], env=environment, stdout=subprocess.DEVNULL, stderr=stderr
        )


def holds_mark(process: subprocess.Popen[bytes], home: Path) -> bool:
    marks = read_catalog(home, "SELECT value FROM meta WHERE key = ?", (CHANGE_MARK,))
    return bool(marks) and marks[0][0] == str(process.pid)


def change_began(process: subprocess.Popen[bytes], home: Path) -> float | None:
    """When `process` took the store's change mark (model loading is over); None if it ended."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if holds_mark(process, home):
            return time.monotonic()
        if process.poll() is not None:
            return None
        time.sleep(0.01)
    raise AssertionError(f"{process.args} did not begin its change within 300 s")


def timed_run(home: Path, args: list[str], log: Path) -> float:
    """Run a change to its end; the seconds it held the change mark (not the exit's)."""
    process = start(home, args, log)
    began = change_began(process, home)
    assert began is not None, "the change never took the store's change mark"
    while holds_mark(process, home) and process.poll() is None:
        time.sleep(0.01)
    seconds = time.monotonic() - began
    assert process.wait(timeout=600) == 0, log.read_text()[-2000:]
    return seconds


@dataclass(frozen=True)
class Kill:
    point: float  # where in the change, as a fraction of its progress
    before: int  # the change's progress measure when this run started...
    after: int  # ...and once it was killed
    killed: bool  # False: the run had finished before its point


def killed_runs(
    home: Path, args: list[str], reference: Reference, progress: Progress
) -> list[Kill]:
    """Run the change KILLS times, each killed at the next of KILLS seeded random points."""
    chance = random.Random(f"{SEED}:{args[0]}")
    first, done = progress(home), progress(reference.home)
    kills = []
    for point in sorted(chance.random() for _ in range(KILLS)):
        target = first + point * (done - first)
        # The change makes 20 to 40 commits: this lands anywhere up to the next one or two.
        delay = chance.random() * reference.seconds / 20
        before = progress(home)
        process = start(home, args, home.parent / "killed.log")
        if change_began(process, home) is not None:
            # The run resumes where the last one was killed, and goes on to this point.
            while process.poll() is None and (progress(home) - target) * (done - first) < 0:
                time.sleep(0.01)
            time.sleep(delay)
        killed = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills.append(Kill(point, before, progress(home), killed))
    return kills


def mid_way(kills: list[Kill], done: int) -> int:
    """Kills that interrupted a run after it had changed something and before it was done."""
    landed = sum(k.killed and k.before != k.after != done for k in kills)
    print(f"\n{len(kills)} kills at {[round(k.point, 3) for k in kills]} of its progress")
    print(f"progress before/after each kill (done: {done}): {[(k.before, k.after) for k in kills]}")
    print(f"{sum(k.killed for k in kills)} killed, {landed} mid-way")
    return landed


@dataclass(frozen=True)
class StoreState:
    rows: dict[str, list[tuple]]
    vectors: dict[str, np.ndarray]
    searchable: set[str]  # ids a query asking for every vector finds: the index holds them


def snapshot(home: Path) -> StoreState:
    assert (home / "catalog.sqlite3").is_file(), f"no store in {home}"
    rows = {table: read_catalog(home, sql) for table, sql in TABLES.items()}
    model = Settings().embedding.resolved_model_path()
    dimension = model_dimension(model)
    assert dimension is not None
    store = Store(home, model_identity(model), dimension)
    try:
        ids = sorted(store.vector_ids())
        vectors = store.stored_vectors(ids)
        probe = next(iter(vectors.values()), None)
        hits = store.nearest(probe, len(ids)) if probe is not None else []
    finally:
        store.close()
    return StoreState(rows, vectors, {cid for cid, _ in hits})


def assert_same_store(actual: StoreState, expected: StoreState) -> None:
    missing = set(expected.rows["posts"]) - set(actual.rows["posts"])
    assert not missing, f"{len(missing)} posts of the uninterrupted run are missing"
    for table in TABLES:
        assert actual.rows[table] == expected.rows[table], f"{table} differ"
    chunk_ids = [row[0] for row in actual.rows["chunks"]]
    assert sorted(actual.vectors) == chunk_ids, "orphan or missing vectors"
    assert actual.searchable == set(chunk_ids), "the index does not find every vector"
    for chunk_id, vector in actual.vectors.items():
        # Batches differ between runs, so the model's padding does too: ~1e-3, not 0.
        assert float(vector @ expected.vectors[chunk_id]) > 0.99, f"{chunk_id}: another text's"


@dataclass(frozen=True)
class Reference:
    home: Path
    seconds: float
    state: StoreState


def reference_run(home: Path, args: list[str]) -> Reference:
    seconds = timed_run(home, args, home.parent / "reference.log")
    print(f"\nuninterrupted `copqa {' '.join(args[:2])}`: {seconds:.1f} s")
    return Reference(home, seconds, snapshot(home))


def converges(home: Path, args: list[str], reference: Reference, progress: Progress) -> None:
    """Kill the change at random points, run it to the end, and compare with `reference`."""
    kills = killed_runs(home, args, reference, progress)
    final = run_copqa(home, *args, env=SMALL_BATCHES)
    # A deletion killed after its last commit is done: the run after it finds no such source.
    done_already = args[0] == "sources" and "error: no source with id or path" in final.stderr
    assert final.returncode == 0 or done_already, final.stderr[-2000:]
    assert_same_store(snapshot(home), reference.state)
    assert mid_way(kills, progress(reference.home)) >= 1, "no kill landed inside the change"


@pytest.fixture(scope="module")
def export(tmp_path_factory, shared_data: Path) -> Path:
    """The export's first MESSAGES messages, as DiscordChatExporter would have written them."""
    original = next((shared_data / EXPORT).glob("*.json"))
    export = json.loads(original.read_text(encoding="utf-8"))
    export["messages"] = export["messages"][:MESSAGES]
    export["messageCount"] = MESSAGES
    folder = tmp_path_factory.mktemp("export")
    (folder / original.name).write_text(json.dumps(export), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, export: Path) -> Reference:
    """The export ingested without interruption."""
    home = tmp_path_factory.mktemp("ingested") / "home"
    return reference_run(home, ["ingest", str(export)])


def test_killed_ingestion_converges(tmp_path: Path, export: Path, ingested: Reference) -> None:
    assert documents(ingested.home) > 150
    converges(tmp_path / "home", ["ingest", str(export)], ingested, documents)


def test_killed_forgetting_converges(tmp_path: Path, ingested: Reference) -> None:
    args = ["members", "forget", MEMBER]
    threads = count(
        ingested.home,
        "SELECT count(DISTINCT document_id) FROM posts WHERE author_name = ?",
        (MEMBER,),
    )
    assert member_posts(ingested.home) > 30 and threads > 20, threads
    forgot = reference_run(shutil.copytree(ingested.home, tmp_path / "reference/home"), args)
    assert member_posts(forgot.home) == 0
    assert len(forgot.state.rows["forgotten"]) == 2  # the member's name and Discord id
    converges(shutil.copytree(ingested.home, tmp_path / "home"), args, forgot, member_posts)


def test_killed_deletion_converges(tmp_path: Path, export: Path, ingested: Reference) -> None:
    args = ["sources", "delete", str(export)]
    deleted = reference_run(shutil.copytree(ingested.home, tmp_path / "reference/home"), args)
    assert deleted.state.rows["documents"] == [] and deleted.state.vectors == {}
    converges(shutil.copytree(ingested.home, tmp_path / "home"), args, deleted, documents)


def test_a_killed_forget_never_run_again_is_finished_by_a_plain_ingest(
    tmp_path: Path, export: Path, ingested: Reference
) -> None:
    """Killed mid-way and never re-run, the forget is finished by the next ingestion, of an
    export that did not change (so it reads nothing of it again)."""
    args = ["members", "forget", MEMBER]
    forgot = reference_run(shutil.copytree(ingested.home, tmp_path / "reference/home"), args)
    home = shutil.copytree(ingested.home, tmp_path / "home")
    before = member_posts(home)
    process = start(home, args, tmp_path / "killed.log")
    assert change_began(process, home) is not None
    deadline = time.monotonic() + 300
    while process.poll() is None and member_posts(home) > before * 0.8:
        assert time.monotonic() < deadline, "the forget removed nothing within 300 s"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = member_posts(home)
    print(f"\nkilled with {left} of the member's {before} posts left")
    assert 0 < left < before, "the kill did not land mid-way"
    ingest = run_copqa(home, "ingest", str(export), "--json", env=SMALL_BATCHES)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert json.loads(ingest.stdout)["added"] == 0
    assert member_posts(home) == 0
    assert_same_store(snapshot(home), forgot.state)
