"""Member accounts: roles, scrypt hashes, sign-in limits, persistence and the CLI."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from copqa.community.accounts import ANONYMOUS, Account, Accounts
from copqa.errors import ConfigError, TooManyAttemptsError
from copqa.store.database import SQLiteDatabase
from tests.support.cli import run_copqa
from tests.support.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(tmp_path: Path, clock: Clock) -> Iterator[Accounts]:
    database = SQLiteDatabase(tmp_path / "home" / "catalog.sqlite3")
    yield Accounts(database, clock=clock)
    database.close()


def stored_hash(path: Path, name: str) -> str:
    with sqlite3.connect(path) as db:
        return str(
            db.execute("SELECT password_hash FROM accounts WHERE name = ?", (name,)).fetchone()[0]
        )


def test_roles_decide_what_an_account_may_do() -> None:
    assert not ANONYMOUS.can_upload and not ANONYMOUS.is_maintainer
    assert Account("bo", "member").can_upload and not Account("bo", "member").is_maintainer
    assert Account("ada", "maintainer").can_upload and Account("ada", "maintainer").is_maintainer


def test_verify_accepts_the_right_password_only(accounts: Accounts, tmp_path: Path) -> None:
    assert accounts.add("  ada ", "maintainer", "correct horse") == Account("ada", "maintainer")
    assert accounts.verify("ada", "correct horse") == Account("ada", "maintainer")
    assert accounts.verify("ada", "correct horsE") is None
    assert accounts.verify("nobody", "correct horse") is None
    stored = stored_hash(tmp_path / "home" / "catalog.sqlite3", "ada")
    assert stored.startswith("scrypt$16384$8$1$") and "correct horse" not in stored


def test_each_hash_has_its_own_salt(accounts: Accounts, tmp_path: Path) -> None:
    accounts.add("ada", "member", "correct horse")
    accounts.add("bo", "member", "correct horse")
    path = tmp_path / "home" / "catalog.sqlite3"
    assert stored_hash(path, "ada") != stored_hash(path, "bo")


def test_adding_again_replaces_role_and_password(accounts: Accounts) -> None:
    accounts.add("ada", "member", "first password")
    accounts.add("ADA", "maintainer", "second password")
    assert accounts.list() == [Account("ADA", "maintainer")]
    assert accounts.verify("ada", "first password") is None
    assert accounts.verify("ada", "second password") == Account("ADA", "maintainer")


@pytest.mark.parametrize(
    ("name", "role", "password", "says"),
    [
        ("ada", "newcomer", "correct horse", "member or maintainer"),
        ("ada", "admin", "correct horse", "member or maintainer"),
        ("ada", "member", "short", "8 characters"),
        ("   ", "member", "correct horse", "1 to 64"),
        ("a" * 65, "member", "correct horse", "1 to 64"),
    ],
)
def test_bad_accounts_are_refused(
    accounts: Accounts, name: str, role: str, password: str, says: str
) -> None:
    with pytest.raises(ConfigError, match=says):
        accounts.add(name, role, password)
    assert accounts.list() == []


def test_names_are_found_in_any_letter_case(accounts: Accounts) -> None:
    accounts.add("Ada", "member", "correct horse")
    assert accounts.get("ADA") == accounts.get("ada") == Account("Ada", "member")
    assert accounts.get("bo") is None
    assert accounts.remove("aDa") and accounts.get("Ada") is None
    assert not accounts.remove("ada")


def test_list_is_sorted_by_name(accounts: Accounts) -> None:
    for name in ("cy", "ada", "bo"):
        accounts.add(name, "member", "correct horse")
    assert [a.name for a in accounts.list()] == ["ada", "bo", "cy"]


def test_five_failures_lock_a_name_until_the_window_passes(
    accounts: Accounts, clock: Clock
) -> None:
    accounts.add("ada", "member", "correct horse")
    accounts.add("bo", "member", "battery staple")
    for _ in range(5):
        assert accounts.verify("ada", "wrong guess") is None
    with pytest.raises(TooManyAttemptsError, match="try again in 5 min"):
        accounts.verify("ADA", "correct horse")
    assert accounts.verify("bo", "battery staple") == Account("bo", "member")
    clock.now += 299
    with pytest.raises(TooManyAttemptsError):
        accounts.verify("ada", "correct horse")
    clock.now += 2
    assert accounts.verify("ada", "correct horse") == Account("ada", "member")


def test_unknown_names_are_limited_too(accounts: Accounts) -> None:
    for _ in range(5):
        assert accounts.verify("mallory", "guess") is None
    with pytest.raises(TooManyAttemptsError):
        accounts.verify("mallory", "guess")


def test_a_success_clears_the_failures(accounts: Accounts) -> None:
    accounts.add("ada", "member", "correct horse")
    for _ in range(4):
        accounts.verify("ada", "wrong guess")
    assert accounts.verify("ada", "correct horse") is not None
    for _ in range(4):
        assert accounts.verify("ada", "wrong guess") is None
    assert accounts.verify("ada", "correct horse") is not None


def test_accounts_persist_beside_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    first = SQLiteDatabase(path)
    Accounts(first).add("ada", "maintainer", "correct horse")
    first.close()
    second = SQLiteDatabase(path)
    try:
        assert Accounts(second).list() == [Account("ada", "maintainer")]
        assert Accounts(second).verify("ada", "correct horse") == Account("ada", "maintainer")
    finally:
        second.close()


def test_cli_adds_lists_and_removes_accounts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    add = ("members", "add", "ada", "--role", "maintainer", "--password-stdin")
    added = run_copqa(home, *add, stdin="correct horse\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "account ada added as maintainer"
    database = SQLiteDatabase(home / "catalog.sqlite3")
    try:
        assert Accounts(database).verify("ada", "correct horse") == Account("ada", "maintainer")
    finally:
        database.close()

    listed = run_copqa(home, "members", "accounts", "--json")
    assert json.loads(listed.stdout) == [{"name": "ada", "role": "maintainer", "groups": []}]

    removed = run_copqa(home, "members", "remove", "ada")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(run_copqa(home, "members", "accounts", "--json").stdout) == []
    again = run_copqa(home, "members", "remove", "ada")
    assert again.returncode == 1 and again.stderr.startswith("error: no account named 'ada'")


def test_cli_refuses_a_short_password(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_copqa(
        home, "members", "add", "ada", "--role", "member", "--password-stdin", stdin="short\n"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "8 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(run_copqa(home, "members", "accounts", "--json").stdout) == []
