"""Several app replicas on one PostgreSQL catalog and one Chroma server; an unreachable catalog.

Each replica has its own COPQA_HOME (its own BM25 index); what one writes, the others answer.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from copqa.assistant import Assistant
from copqa.community.accounts import Account, Accounts
from copqa.errors import ConfigError, StoreError
from copqa.settings import CatalogSettings, ChromaSettings, Settings
from copqa.store.database import PostgresDatabase
from copqa.store.store import Store
from eval.bench.app_server import refused_port
from ingest.factory import build_pipeline
from tests.support.chroma_server import running_chroma
from tests.support.cli import run_copqa
from tests.support.files import write_files
from tests.support.postgres_server import fresh_database

KILN = "# Kiln\n\nThe ceramics kiln is fired on Thursdays; load it by Wednesday evening."


@pytest.fixture
def replicas(postgres_server: str, embedder, tmp_path: Path) -> Iterator[tuple[Settings, Settings]]:
    with running_chroma(tmp_path / "chroma") as chroma_url:
        catalog = CatalogSettings(url=fresh_database(postgres_server))
        chroma = ChromaSettings(url=chroma_url)
        yield (
            Settings(home=tmp_path / "replica-a", catalog=catalog, chroma=chroma),
            Settings(home=tmp_path / "replica-b", catalog=catalog, chroma=chroma),
        )


def open_store(settings: Settings, embedder) -> Store:
    return Store(
        settings.home, embedder.identity, embedder.dimension, settings.chroma, settings.catalog
    )


def test_what_one_replica_writes_the_other_answers(replicas, embedder, tmp_path: Path) -> None:
    settings_a, settings_b = replicas
    a, b = open_store(settings_a, embedder), open_store(settings_b, embedder)
    try:
        assert b.keyword_index().search("kiln", 5) == []  # built (empty) before A writes
        folder = write_files(tmp_path / "notes", {"kiln.md": KILN})
        assert build_pipeline(settings_a, a, embedder).ingest([folder]).added == 1
        (kiln,) = a.chunk_ids()
        assert [cid for cid, _ in b.keyword_index().search("kiln thursdays", 3)] == [kiln]
        assert (settings_b.home / "keyword").is_dir()  # B's own copy of the index, not A's
        answer = Assistant.on_store(settings_b, embedder, b).ask("When is the kiln fired?")
        assert answer.retrieved[0].chunk.id == kiln

        (folder / "kiln.md").write_text("# Kiln\n\nThe kiln is now fired on Mondays.\n")
        build_pipeline(settings_a, a, embedder).ingest([folder])
        assert [cid for cid, _ in b.keyword_index().search("mondays", 3)] == [kiln]
        assert b.chunks([(kiln, 1.0)])[0].chunk.text.endswith("fired on Mondays.")
    finally:
        a.close()
        b.close()


def hold(store: Store, holding: threading.Event, release: threading.Event) -> threading.Thread:
    """A thread that takes the store's write lock, says so, and keeps it until `release`."""

    def write() -> None:
        with store.exclusive():
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_the_advisory_lock_serialises_writers_across_replicas(replicas, embedder) -> None:
    a, b = (open_store(s, embedder) for s in replicas)
    a_holds, b_holds, release = threading.Event(), threading.Event(), threading.Event()
    try:
        writer_a = hold(a, a_holds, release)
        assert a_holds.wait(10)
        writer_b = hold(b, b_holds, release)
        assert not b_holds.wait(1.5)  # B waits while A writes...
        with psycopg.connect(replicas[0].catalog.url) as session:
            (held,) = session.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
            ).fetchone()
        assert held == 1  # ...on the server, not on a file of either home
        release.set()
        writer_a.join(10)
        assert b_holds.wait(10)  # and writes once A is done
        writer_b.join(10)
        assert not writer_b.is_alive()
    finally:
        release.set()
        a.close()
        b.close()


def test_an_unreachable_catalog_is_a_clear_and_quick_error(embedder, tmp_path: Path) -> None:
    with refused_port() as port:
        url = f"postgresql://copqa:s3cret@127.0.0.1:{port}/copqa"
        started = time.monotonic()
        with pytest.raises(StoreError) as raised:
            Store(
                tmp_path / "home",
                embedder.identity,
                embedder.dimension,
                catalog=CatalogSettings(url=url),
            )
        assert time.monotonic() - started < 5
    message = str(raised.value)
    assert message.startswith(f"cannot reach the catalog at postgresql://127.0.0.1:{port}/copqa: ")
    assert "s3cret" not in message and "unset COPQA_CATALOG__URL" in message


def test_a_catalog_server_that_never_answers_fails_within_seconds() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog does) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql://copqa@127.0.0.1:{silent.getsockname()[1]}/copqa"
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot reach the catalog at"):
            PostgresDatabase(url)
        assert time.monotonic() - started < 10


def test_the_cli_reports_an_unreachable_catalog_without_a_traceback(tmp_path: Path) -> None:
    with refused_port() as port:
        url = f"postgresql://copqa:s3cret@127.0.0.1:{port}/copqa"
        listed = run_copqa(
            tmp_path / "home", "members", "accounts", env={"COPQA_CATALOG__URL": url}
        )
    assert listed.returncode == 1
    assert listed.stderr.startswith("error: cannot reach the catalog at postgresql://127.0.0.1:")
    assert "s3cret" not in listed.stderr and "Traceback" not in listed.stderr
    assert not (tmp_path / "home" / "catalog.sqlite3").exists()


def test_the_cli_follows_copqa_catalog_url(postgres_server: str, tmp_path: Path) -> None:
    url = fresh_database(postgres_server)
    env = {"COPQA_CATALOG__URL": url}
    add = ("members", "add", "ada", "--role", "maintainer", "--password-stdin")
    added = run_copqa(tmp_path / "home", *add, stdin="correct horse\n", env=env)
    assert added.returncode == 0, added.stderr
    database = PostgresDatabase(url)
    try:
        assert Accounts(database).verify("ada", "correct horse") == Account("ada", "maintainer")
    finally:
        database.close()
    assert not (tmp_path / "home" / "catalog.sqlite3").exists()  # nothing embedded on the side
    # Another replica's home sees the same accounts.
    listed = run_copqa(tmp_path / "other", "members", "accounts", "--json", env=env)
    assert listed.returncode == 0 and '"ada"' in listed.stdout


def test_a_url_that_is_not_postgresql_is_refused_without_its_password() -> None:
    with pytest.raises(ConfigError, match="is not a PostgreSQL URL") as raised:
        PostgresDatabase("mysql://copqa:s3cret@db.internal/copqa")
    assert "s3cret" not in str(raised.value)
