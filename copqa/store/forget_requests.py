"""Requests to forget a member, recorded before any of their words are removed.

A request names every key (author id, display name, account name) the member posted or
uploaded under. It stays pending until the whole removal is done, so a run killed half-way
is finished by the next change of the store, whoever makes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

from copqa.store.database import Database

_SCHEMA = """CREATE TABLE IF NOT EXISTS forget_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, keys TEXT NOT NULL, requested_at INTEGER NOT NULL,
    finished_at INTEGER)"""


@dataclass(frozen=True)
class ForgetRequest:
    id: int
    keys: frozenset[str]


class ForgetRequests:
    """The `forget_requests` table; safe to share between threads, as its database is."""

    def __init__(self, database: Database) -> None:
        self._db = database
        database.create(_SCHEMA)

    def record(self, keys: Iterable[str]) -> int:
        """Add a pending request (in the caller's transaction, if any); returns its id."""
        row = self._db.execute(
            "INSERT INTO forget_requests (keys, requested_at) VALUES (?, ?) RETURNING id",
            (json.dumps(sorted(set(keys))), int(time.time())),
        ).fetchone()
        return int(row[0])

    def pending(self) -> list[ForgetRequest]:
        """The requests not finished yet, oldest first."""
        rows = self._db.execute(
            "SELECT id, keys FROM forget_requests WHERE finished_at IS NULL ORDER BY id"
        )
        return [ForgetRequest(rid, frozenset(json.loads(keys))) for rid, keys in rows]

    def finish(self, request_id: int) -> None:
        self._db.execute(
            "UPDATE forget_requests SET finished_at = ? WHERE id = ?",
            (int(time.time()), request_id),
        )
