"""How fast sign-in guesses may come: failure counters in the catalog, shared by every replica.

Three counters, each a row of `sign_in_failures` keyed by (name, client):

- (name, client): one client guessing one name. Five failures are free, then the pair waits
  5 minutes, doubling with each further failure (capped at 4 hours). Only this pair waits:
  a stranger failing on purpose from another client does not hold the member up.
- ("", client): one client guessing across names. Twenty failures are free, then it waits a
  minute, doubling (capped at 4 hours), whatever name it tries next.
- (name, ""): every client guessing one name. Twenty failures are free, then each further
  attempt waits a second, doubling, capped at one minute: it slows a guesser spread over
  many clients, never locks, and does not apply to a client that signed in as that name
  within the last 90 days, so the member's own client always gets through.

A counter quiet for a day starts again from nothing. An attempt is counted as a failure
before the password is checked (and taken back if it was right), in one transaction that
holds the counters' rows, so parallel guesses on any replica cannot slip past a limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from copqa.errors import TooManyAttemptsError
from copqa.store import Database

_SCHEMA = """CREATE TABLE IF NOT EXISTS sign_in_failures (
    name TEXT NOT NULL, client TEXT NOT NULL, failures INTEGER NOT NULL,
    last_failure REAL NOT NULL, next_attempt REAL NOT NULL, signed_in REAL NOT NULL,
    PRIMARY KEY (name, client));
CREATE INDEX IF NOT EXISTS sign_in_failures_last ON sign_in_failures(last_failure)"""

ANY = ""  # the name or client of a counter that spans them all
QUIET_SECONDS = 86_400.0  # a counter this long without a failure is forgotten
TRUSTED_SECONDS = 90 * 86_400.0  # a client that signed in as a name this recently skips its ceiling


@dataclass(frozen=True)
class Backoff:
    """No wait for the first `free` failures, then `first` seconds, doubling up to `cap`."""

    free: int
    first: float
    cap: float

    def wait(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.first * 2.0 ** (failures - self.free))


PER_PAIR = Backoff(free=5, first=300.0, cap=4 * 3600.0)
PER_CLIENT = Backoff(free=20, first=60.0, cap=4 * 3600.0)
PER_NAME = Backoff(free=20, first=1.0, cap=60.0)


@dataclass(frozen=True)
class _Counter:
    failures: int
    last_failure: float
    next_attempt: float
    signed_in: float


class SignInLimits:
    """The shared failure counters; safe to share between threads, processes and replicas.

    Args:
        database: The catalog's database (whoever opened it closes it).
        clock: Wall-clock seconds, the same on every replica (epoch time).
    """

    def __init__(self, database: Database, clock: Callable[[], float]) -> None:
        self._db = database
        self._clock = clock
        database.create(_SCHEMA)

    def attempt(self, name: str, client: str) -> None:
        """Count an attempt as failed until `succeeded` says otherwise.

        Raises:
            TooManyAttemptsError: One of the counters says wait; nothing was counted.
        """
        key, client = _keys(name, client)
        rows = [(key, client), (ANY, client), (key, ANY)]
        with self._db.transaction():
            now = self._clock()
            pair, per_client, per_name = (self._held(n, c, now) for n, c in rows)
            trusted = pair.signed_in > 0 and now - pair.signed_in < TRUSTED_SECONDS
            waits = [pair.next_attempt, per_client.next_attempt]
            if not trusted:
                waits.append(per_name.next_attempt)
            wait = max(waits) - now
            if wait > 0:
                raise TooManyAttemptsError(
                    f"too many failed sign-ins for {name.strip()!r}; try again in {_span(wait)}"
                )
            for (n, c), counter, backoff in zip(
                rows, (pair, per_client, per_name), (PER_PAIR, PER_CLIENT, PER_NAME), strict=True
            ):
                failures = counter.failures + 1
                self._db.execute(
                    "UPDATE sign_in_failures SET failures = ?, last_failure = ?, next_attempt = ? "
                    "WHERE name = ? AND client = ?",
                    (failures, now, now + backoff.wait(failures), n, c),
                )
            self._db.execute(
                "DELETE FROM sign_in_failures WHERE last_failure < ? AND signed_in < ?",
                (now - QUIET_SECONDS, now - TRUSTED_SECONDS),
            )

    def succeeded(self, name: str, client: str) -> None:
        """The attempt was right: clear the pair, and take it back from the wider counters."""
        key, client = _keys(name, client)
        with self._db.transaction():
            now = self._clock()
            self._db.execute(
                "UPDATE sign_in_failures SET failures = 0, next_attempt = 0, signed_in = ? "
                "WHERE name = ? AND client = ?",
                (now, key, client),
            )
            self._db.execute(
                "UPDATE sign_in_failures SET failures = failures - 1 "
                "WHERE failures > 0 AND ((name = ? AND client = ?) OR (name = ? AND client = ?))",
                (ANY, client, key, ANY),
            )

    def _held(self, name: str, client: str, now: float) -> _Counter:
        """The counter's row, created if missing and locked for the transaction."""
        # A no-op update takes the row's lock on PostgreSQL; SQLite's transaction holds them all.
        self._db.execute(
            "INSERT INTO sign_in_failures VALUES (?, ?, 0, 0, 0, 0) ON CONFLICT (name, client) "
            "DO UPDATE SET failures = sign_in_failures.failures",
            (name, client),
        )
        failures, last, next_attempt, signed_in = self._db.execute(
            "SELECT failures, last_failure, next_attempt, signed_in FROM sign_in_failures "
            "WHERE name = ? AND client = ?",
            (name, client),
        ).fetchone()
        if now - last > QUIET_SECONDS:
            return _Counter(0, last, 0.0, signed_in)
        return _Counter(failures, last, next_attempt, signed_in)


def _keys(name: str, client: str) -> tuple[str, str]:
    """The counter keys of a name (in any letter case) and a client; never `ANY`."""
    return f"name:{name.strip().casefold()}", f"client:{client}"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{math.ceil(seconds)} s"
    return f"{math.ceil(seconds / 60)} min"
