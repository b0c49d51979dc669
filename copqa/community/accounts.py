"""Member accounts: a name, a role and a scrypt password hash, in the catalog's database.

Newcomers need no account; members may upload; maintainers may also manage the store.
Failed sign-ins are counted in the catalog (`copqa.sign_in_limits`), so guessing a
password stays slow however many replicas serve the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

from copqa.community.sign_in_limits import SignInLimits
from copqa.errors import ConfigError, StoreError
from copqa.store import Database

ROLES = ("newcomer", "member", "maintainer")
Role = Literal["newcomer", "member", "maintainer"]

MIN_PASSWORD = 8
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

_SCHEMA = """CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY COLLATE NOCASE,
    role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL)"""


@dataclass(frozen=True)
class Account:
    """Who is signed in, and what they may do."""

    name: str
    role: Role

    @property
    def can_upload(self) -> bool:
        return self.role in ("member", "maintainer")

    @property
    def is_maintainer(self) -> bool:
        return self.role == "maintainer"


ANONYMOUS = Account("", "newcomer")


class Accounts:
    """The accounts table, safe to share between threads, processes and replicas.

    Args:
        database: The catalog's database (whoever opened it closes it).
        clock: Wall-clock seconds (epoch), for the sign-in limits every replica shares.
    """

    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = database
        self._limits = SignInLimits(database, clock)
        database.create(_SCHEMA)

    def add(self, name: str, role: str, password: str) -> Account:
        """Create an account, or replace the role and password of an existing one.

        Raises:
            ConfigError: The name, role or password is not acceptable.
        """
        name = name.strip()
        if not 1 <= len(name) <= 64:
            raise ConfigError("an account name has 1 to 64 characters")
        if role not in ("member", "maintainer"):
            raise ConfigError(f"role {role!r}: use member or maintainer (newcomers need none)")
        if len(password) < MIN_PASSWORD:
            raise ConfigError(f"a password needs {MIN_PASSWORD} characters or more; choose longer")
        stored = _hash(password)
        self._db.execute(
            "INSERT INTO accounts VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "name = excluded.name, role = excluded.role, password_hash = excluded.password_hash",
            (name, role, stored, int(time.time())),
        )
        return Account(name, cast(Role, role))

    def remove(self, name: str) -> bool:
        """Delete an account; False if there was none by that name."""
        return self._db.execute("DELETE FROM accounts WHERE name = ?", (name.strip(),)).rowcount > 0

    def list(self) -> list[Account]:
        """Every account, by name."""
        rows = self._db.execute("SELECT name, role FROM accounts ORDER BY name").fetchall()
        return [Account(name, role) for name, role in rows]

    def get(self, name: str) -> Account | None:
        """The account with this name, in any letter case, or None."""
        row = self._row(name)
        return Account(row[0], row[1]) if row else None

    def verify(self, name: str, password: str, client: str = "") -> Account | None:
        """The account if the password is right, else None.

        Args:
            client: Who is signing in, as far as the server can tell (the request's host):
                failures are limited per name and client, per client, and per name.

        Raises:
            TooManyAttemptsError: Guessed too often lately; nothing was checked.
        """
        self._limits.attempt(name, client)
        row = self._row(name)
        # An unknown name costs the same hashing, so timing does not tell which names exist.
        matches = _check(password, row[2] if row else _DUMMY_HASH)
        if not (row and matches):
            return None
        self._limits.succeeded(name, client)
        return Account(row[0], row[1])

    def _row(self, name: str) -> tuple[str, Role, str] | None:
        return self._db.execute(
            "SELECT name, role, password_hash FROM accounts WHERE name = ?", (name.strip(),)
        ).fetchone()


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    memory = 256 * n * r * p  # twice what scrypt needs; OpenSSL's default limit is 32 MiB
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=memory)


def _hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, 32)
    encoded = "$".join(base64.b64encode(part).decode() for part in (salt, key))
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${encoded}"


def _check(password: str, stored: str) -> bool:
    """Whether `password` derives the key in `stored`, with the parameters `stored` names."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(f"unknown scheme {scheme!r}")
        expected = base64.b64decode(key, validate=True)
        salt_bytes = base64.b64decode(salt, validate=True)
        actual = _derive(password, salt_bytes, int(n), int(r), int(p), len(expected))
    except ValueError as exc:
        raise StoreError(f"unreadable password hash ({exc}); add the account again") from exc
    return hmac.compare_digest(actual, expected)


# A zero salt and a zero key: what an unknown name is checked against (nothing derives it).
_DUMMY_HASH = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${'A' * 22}==${'A' * 43}="
