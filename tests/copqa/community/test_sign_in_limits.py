"""Sign-in limits kept in the catalog: shared by replicas, per client, never a lock-out.

Each test runs on both catalogs: a SQLite file opened twice (two processes' worth of
connections) and a real PostgreSQL two `Accounts` share, as two replicas of the page would.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from copqa.community.accounts import Account, Accounts
from copqa.errors import TooManyAttemptsError
from copqa.store.database import Database, PostgresDatabase, SQLiteDatabase
from tests.support.clock import Clock
from tests.support.postgres_server import fresh_database

MEMBER_HOST, STRANGER_HOST = "198.51.100.7", "203.0.113.9"


@pytest.fixture(params=["sqlite", "postgresql"])
def open_replica(request, tmp_path: Path) -> Iterator[Callable[[], Database]]:
    """Opens another connection set to one catalog, as another replica would."""
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("postgres_server"))

        def opener() -> Database:
            return PostgresDatabase(url)
    else:

        def opener() -> Database:
            return SQLiteDatabase(tmp_path / "catalog.sqlite3")

    opened: list[Database] = []

    def replica() -> Database:
        opened.append(opener())
        return opened[-1]

    yield replica
    for database in opened:
        database.close()


@pytest.fixture
def replicas(open_replica, clock: Clock) -> tuple[Accounts, Accounts]:
    first, second = Accounts(open_replica(), clock=clock), Accounts(open_replica(), clock=clock)
    first.add("ada", "member", "correct horse")
    return first, second


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_replicas_share_the_failure_count(replicas: tuple[Accounts, Accounts]) -> None:
    first, second = replicas
    for replica in (first, second, first, second, first):
        assert replica.verify("ada", "wrong guess", STRANGER_HOST) is None
    for replica in replicas:
        with pytest.raises(TooManyAttemptsError, match="try again in 5 min"):
            replica.verify("ADA", "another guess", STRANGER_HOST)


def test_a_strangers_failures_do_not_stop_the_member(
    replicas: tuple[Accounts, Accounts], clock: Clock
) -> None:
    first, second = replicas
    assert first.verify("ada", "correct horse", MEMBER_HOST) == Account("ada", "member")
    for _ in range(5):
        assert second.verify("ada", "wrong guess", STRANGER_HOST) is None
    with pytest.raises(TooManyAttemptsError):
        second.verify("ada", "correct horse", STRANGER_HOST)
    assert first.verify("ada", "correct horse", MEMBER_HOST) == Account("ada", "member")
    # A crowd of clients past the name's ceiling gets one guess a minute between them; the
    # member's usual client is not held up, a client new to the name waits a minute at most.
    for n in range(10):
        for _ in range(5):
            clock.now += 61
            assert second.verify("ada", "wrong guess", f"192.0.2.{n}") is None
    with pytest.raises(TooManyAttemptsError):
        second.verify("ada", "wrong guess", "192.0.2.99")
    assert first.verify("ada", "correct horse", MEMBER_HOST) == Account("ada", "member")
    with pytest.raises(TooManyAttemptsError, match="try again in 1 min"):
        first.verify("ada", "correct horse", "192.0.2.200")
    clock.now += 60
    assert first.verify("ada", "correct horse", "192.0.2.200") == Account("ada", "member")


def test_one_client_guessing_many_names_is_throttled(
    replicas: tuple[Accounts, Accounts], clock: Clock
) -> None:
    first, second = replicas
    for n in range(20):
        replica = (first, second)[n % 2]
        assert replica.verify(f"guess-{n}", "password1", STRANGER_HOST) is None
    with pytest.raises(TooManyAttemptsError, match="try again in 1 min"):
        first.verify("ada", "password1", STRANGER_HOST)
    assert second.verify("ada", "correct horse", MEMBER_HOST) == Account("ada", "member")
    clock.now += 61
    assert first.verify("guess-21", "password1", STRANGER_HOST) is None
    with pytest.raises(TooManyAttemptsError, match="try again in 2 min"):
        first.verify("guess-22", "password1", STRANGER_HOST)


def test_the_wait_doubles_and_a_success_clears_it(
    replicas: tuple[Accounts, Accounts], clock: Clock
) -> None:
    first, second = replicas
    for _ in range(5):
        assert first.verify("ada", "wrong guess", MEMBER_HOST) is None
    clock.now += 301
    assert second.verify("ada", "wrong again", MEMBER_HOST) is None
    with pytest.raises(TooManyAttemptsError, match="try again in 10 min"):
        first.verify("ada", "correct horse", MEMBER_HOST)
    clock.now += 601
    assert second.verify("ada", "correct horse", MEMBER_HOST) == Account("ada", "member")
    for _ in range(5):  # the count starts again from nothing
        assert first.verify("ada", "wrong guess", MEMBER_HOST) is None


def test_parallel_guesses_on_two_replicas_cannot_pass_the_limit(
    replicas: tuple[Accounts, Accounts],
) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(replica: Accounts) -> None:
        try:
            result = (
                "wrong" if replica.verify("ada", "wrong guess", STRANGER_HOST) is None else "in"
            )
        except TooManyAttemptsError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=guess, args=(replicas[n % 2],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * 7 + ["wrong"] * 5


def test_a_catalog_from_before_the_limits_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with sqlite3.connect(path) as old:  # what an earlier copqa made: accounts, no counters
        old.execute(
            "CREATE TABLE accounts (name TEXT PRIMARY KEY COLLATE NOCASE, role TEXT NOT NULL, "
            "password_hash TEXT NOT NULL, created_at INTEGER NOT NULL)"
        )
    old.close()
    database = SQLiteDatabase(path)
    try:
        accounts = Accounts(database)
        accounts.add("ada", "member", "correct horse")
        assert accounts.verify("ada", "wrong guess", STRANGER_HOST) is None
        assert "failures" in database.columns("sign_in_failures")
    finally:
        database.close()


def test_the_page_counts_failures_by_the_requests_host(app_url: str, app_home: Path) -> None:
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="wrong password"):
        client.predict("nobody-here", "not the password", api_name="/sign_in")
    with sqlite3.connect(app_home / "catalog.sqlite3") as catalog:
        rows = catalog.execute(
            "SELECT client, failures FROM sign_in_failures WHERE name = 'name:nobody-here' "
            "ORDER BY client"
        ).fetchall()
    catalog.close()
    assert rows == [("", 1), ("client:127.0.0.1", 1)]  # every client's, and this host's
