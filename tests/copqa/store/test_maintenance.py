"""A lost or damaged vector store is named and rebuilt; backups are consistent and restore whole."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from copqa.assistant import Assistant
from copqa.community import COMMUNITY_TABLES
from copqa.errors import CopqaError, StoreError
from copqa.settings import Settings
from copqa.store.maintenance import backup, read_manifest, restore
from copqa.store.store import Store
from ingest.factory import build_pipeline
from tests.support.cli import run_copqa
from tests.support.paths import REPO

SAMPLE = [REPO / "sample/docs", REPO / "sample/slack"]
QUESTIONS = (
    "Can I cut PVC on the laser cutter?",
    "What settings cut 3 mm birch plywood on Cormorant?",
    "How much does Keyholder membership cost?",
)


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory, embedder) -> Path:
    """The sample community ingested once; tests copy it before they damage anything."""
    home = tmp_path_factory.mktemp("sample") / "home"
    store = Store(home, embedder.identity, embedder.dimension)
    build_pipeline(Settings(home=home), store, embedder).ingest(SAMPLE)
    store.close()
    return home


def copy_of(home: Path, tmp_path: Path) -> Path:
    target = tmp_path / "home"
    shutil.copytree(home, target)
    return target


def answers(home: Path, embedder) -> list[tuple[str, tuple[str, ...]]]:
    """Each question's answer with the chunks it cites, from a store opened afresh."""
    store = Store(home, embedder.identity, embedder.dimension)
    try:
        store.check_vectors()
        assistant = Assistant.on_store(Settings(home=home), embedder, store)
        found = []
        for question in QUESTIONS:
            answer = assistant.ask(question)
            found.append((answer.answer, tuple(c.chunk.id for c in answer.citations)))
        return found
    finally:
        store.close()


def state(home: Path, embedder) -> dict[str, object]:
    store = Store(home, embedder.identity, embedder.dimension)
    try:
        return {
            "chunks": sorted(store.chunk_ids()),
            "vectors": sorted(store.vector_ids()),
            "counts": store.counts(),
            "accounts": sorted(a.name for a in _accounts(store).list()),
        }
    finally:
        store.close()


def _accounts(store: Store):
    from copqa.community.accounts import Accounts

    return Accounts(store._database)  # the store's own connection: what a backup copies


def test_a_lost_vector_store_is_named_and_rebuilt_from_the_catalog(
    sample_home: Path, tmp_path: Path, embedder
) -> None:
    expected = answers(sample_home, embedder)
    home = copy_of(sample_home, tmp_path)
    shutil.rmtree(home / "chroma")

    with pytest.raises(StoreError, match=r"copqa rebuild"):
        answers(home, embedder)
    asked = run_copqa(home, "ask", QUESTIONS[0])
    assert asked.returncode == 1
    assert "error:" in asked.stderr and "copqa rebuild" in asked.stderr

    rebuilt = run_copqa(home, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert answers(home, embedder) == expected
    assert state(home, embedder) == state(sample_home, embedder)


def test_a_damaged_vector_store_is_set_aside_and_rebuilt(
    sample_home: Path, tmp_path: Path, embedder
) -> None:
    expected = answers(sample_home, embedder)
    home = copy_of(sample_home, tmp_path)
    with (home / "chroma/chroma.sqlite3").open("r+b") as damaged:
        damaged.write(b"\x00garbage" * 512)

    asked = run_copqa(home, "ask", QUESTIONS[0])
    assert asked.returncode == 1
    assert "cannot be opened" in asked.stderr and "copqa rebuild" in asked.stderr

    rebuilt = run_copqa(home, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "set aside" in rebuilt.stdout
    assert [p.name for p in home.glob("chroma.damaged-*")], "the damaged folder is kept"
    assert answers(home, embedder) == expected


def test_a_backup_taken_during_an_ingestion_is_consistent_and_restores_whole(
    sample_home: Path, tmp_path: Path, shared_data: Path, embedder
) -> None:
    home = copy_of(sample_home, tmp_path)
    store = Store(home, embedder.identity, embedder.dimension)
    _accounts(store).add("ada", "maintainer", "correct horse battery")
    more = shared_data / "r-contributors/docs/collaboration_campfires"
    ingesting = threading.Thread(
        target=lambda: build_pipeline(Settings(home=home), store, embedder).ingest([more])
    )
    ingesting.start()
    manifest = backup(store, tmp_path / "backup", COMMUNITY_TABLES)
    ingesting.join()
    store.close()

    # Consistent: every chunk of the copy has its vector, and nothing else has one.
    assert manifest.vectors == manifest.rows["chunks"] > 0
    ids = json.loads((tmp_path / "backup/vector_ids.json").read_text())
    assert len(set(ids)) == len(ids) == manifest.rows["chunks"]
    assert read_manifest(tmp_path / "backup") == manifest

    restored_home = tmp_path / "restored"
    restored = Store(restored_home, embedder.identity, embedder.dimension)
    restore(restored, tmp_path / "backup", COMMUNITY_TABLES)
    restored.close()
    got = state(restored_home, embedder)
    assert got["chunks"] == got["vectors"] == sorted(ids)
    assert got["accounts"] == ["ada"]
    assert got["counts"].chunks == manifest.rows["chunks"]


def test_restore_replaces_what_the_store_held(sample_home: Path, tmp_path: Path, embedder) -> None:
    store = Store(sample_home, embedder.identity, embedder.dimension)
    backup(store, tmp_path / "backup", COMMUNITY_TABLES)
    store.close()
    other = tmp_path / "other"
    other_store = Store(other, embedder.identity, embedder.dimension)
    build_pipeline(Settings(home=other), other_store, embedder).ingest([SAMPLE[0]])
    restore(other_store, tmp_path / "backup", COMMUNITY_TABLES)
    other_store.close()
    assert state(other, embedder) == state(sample_home, embedder)
    assert answers(other, embedder) == answers(sample_home, embedder)


def test_a_damaged_or_foreign_backup_is_refused(
    sample_home: Path, tmp_path: Path, embedder
) -> None:
    store = Store(sample_home, embedder.identity, embedder.dimension)
    backup(store, tmp_path / "backup", COMMUNITY_TABLES)
    with pytest.raises(CopqaError, match="not empty"):
        backup(store, tmp_path / "backup", COMMUNITY_TABLES)
    store.close()
    with (tmp_path / "backup/vectors.npy").open("r+b") as damaged:
        damaged.seek(200)
        damaged.write(b"\xff\xff")
    target = Store(tmp_path / "target", embedder.identity, embedder.dimension)
    try:
        with pytest.raises(CopqaError, match=r"damaged: vectors\.npy"):
            restore(target, tmp_path / "backup", COMMUNITY_TABLES)
        with pytest.raises(CopqaError, match="holds no copqa backup"):
            restore(target, tmp_path, COMMUNITY_TABLES)
        assert target.counts().chunks == 0  # nothing was half-restored
    finally:
        target.close()


def test_the_commands_back_up_and_restore(sample_home: Path, tmp_path: Path, embedder) -> None:
    made = run_copqa(sample_home, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert "backed up" in made.stdout
    home = tmp_path / "home"
    put_back = run_copqa(home, "restore", str(tmp_path / "backup"))
    assert put_back.returncode == 0, put_back.stderr
    assert state(home, embedder) == state(sample_home, embedder)
