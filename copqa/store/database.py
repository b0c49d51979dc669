"""The catalog's database: an embedded SQLite file, or a PostgreSQL server replicas share.

Catalog, ActivityLog and Accounts write portable SQL with `?` placeholders (upserts with
`ON CONFLICT`, `RETURNING`) and declare their tables in SQLite's words. What really differs
between the two databases lives here and nowhere else: connections and transactions, the
writer lock, schema types, listing a table's columns, and joining strings in an aggregate.

Both keep one connection per thread, in autocommit unless a transaction is begun, so one
thread's transaction never holds another's reads. A driver's error leaves this module as
a StoreError.
"""

from __future__ import annotations

import fcntl
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from copqa import home as layout
from copqa.errors import ConfigError, StoreError
from copqa.settings import CatalogSettings

if TYPE_CHECKING:  # imported when a PostgreSQL catalog is opened: ~1 s a SQLite user never pays
    import psycopg

CONNECT_TIMEOUT = 5  # seconds to wait for a PostgreSQL server before calling it unreachable
# pg_advisory_lock keys, scoped to the catalog's database: "copqa:wr" and "copqa:sc" as integers.
_WRITER_LOCK = int.from_bytes(b"copqa:wr", "big")
_SCHEMA_LOCK = int.from_bytes(b"copqa:sc", "big")


class Rows(Protocol):
    """What a statement returns, whichever driver ran it."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(ABC):
    """One catalog database, shared by the tables' owners; safe to share between threads."""

    location: str  # where it is, for messages: a path, or a URL without user or password

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> Rows:
        """Run one statement with `?` placeholders."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """Run one statement once per row of parameters."""

    def create(self, schema: str, added_columns: Sequence[tuple[str, str, str]] = ()) -> None:
        """Create the tables and indexes `schema` declares (SQLite DDL) that are missing.

        Args:
            added_columns: (table, column, declaration) added after a first release, so a
                catalog an earlier copqa made is brought up to this schema.
        """
        self._create(schema)
        for table, column, declaration in added_columns:
            if column not in self.columns(table):
                self.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    @abstractmethod
    def _create(self, schema: str) -> None: ...

    @abstractmethod
    def columns(self, table: str) -> set[str]:
        """The names of a table's columns; empty if there is no such table."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Run the block's statements as one transaction of this thread."""

    @abstractmethod
    def writer_lock(self) -> AbstractContextManager[None]:
        """Block until no other writer of this catalog runs, on any host; held for the block."""

    @abstractmethod
    def distinct_list(self, expression: str) -> str:
        """SQL aggregating the distinct non-null values of `expression` into 'a,b,c'."""

    @abstractmethod
    def reset_identities(self, tables: Sequence[str]) -> None:
        """After rows were copied in with their ids, new rows of `tables` get higher ones."""

    @abstractmethod
    def close(self) -> None:
        """Close every connection; the database can no longer be used."""


def open_database(home: Path, settings: CatalogSettings | None = None) -> Database:
    """The catalog's database: PostgreSQL at `settings.url`, else the SQLite file in `home`.

    Raises:
        ConfigError: The URL is not a PostgreSQL URL.
        StoreError: The server cannot be reached within CONNECT_TIMEOUT seconds.
    """
    url = settings.url if settings else ""
    if not url:
        return SQLiteDatabase(home / layout.CATALOG)
    return PostgresDatabase(url)


def catalog_exists(home: Path, settings: CatalogSettings | None = None) -> bool:
    """Whether a catalog has been made there already (nothing is created to find out)."""
    if not (settings and settings.url):
        return (home / layout.CATALOG).exists()
    with closing(PostgresDatabase(settings.url)) as database:
        return bool(database.columns("sources"))


T = TypeVar("T")


class _PerThread(Generic[T]):
    """One connection per thread, opened on first use; all of them closed together."""

    def __init__(self, connect: Callable[[], T], close: Callable[[T], None]) -> None:
        self._connect = connect
        self._close = close
        self._local = threading.local()
        self._opened: list[T] = []
        self._lock = threading.Lock()

    def get(self) -> T:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
            with self._lock:
                self._opened.append(connection)
        return connection

    def discard(self) -> None:
        """Forget this thread's connection (it broke); the next `get` opens another."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            self._local.connection = None
            with self._lock:
                self._opened.remove(connection)
            self._close(connection)

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                self._close(connection)
            self._opened.clear()
        self._local = threading.local()


class SQLiteDatabase(Database):
    """A SQLite file in WAL mode: readers never wait for the one writer."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.location = str(path)
        self._connections = _PerThread(self._connect, sqlite3.Connection.close)

    def _connect(self) -> sqlite3.Connection:
        with self._errors():
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"the catalog at {self.location} cannot be used: {exc}") from exc

    def execute(self, sql: str, params: Sequence[object] = ()) -> Rows:
        with self._errors():
            return self._connections.get().execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._errors():
            self._connections.get().executemany(sql, rows)

    def _create(self, schema: str) -> None:
        with self._errors():
            self._connections.get().executescript(schema)

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.execute(f"PRAGMA table_info({table})")}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """A lock file beside the catalog: writers on this host, in any process."""
        with open(self.path.parent / layout.INGEST_LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def distinct_list(self, expression: str) -> str:
        return f"group_concat(DISTINCT {expression})"

    def reset_identities(self, tables: Sequence[str]) -> None:
        """Nothing to do: AUTOINCREMENT counts on from the highest id it was ever given."""

    def close(self) -> None:
        self._connections.close()


class PostgresDatabase(Database):
    """A PostgreSQL database that several app replicas read and write at once."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._password = parts.password or ""
        try:
            port = parts.port or 5432
        except ValueError:  # a port that is not a number
            port = 0
        self.location = f"{parts.scheme}://{parts.hostname or 'localhost'}:{port}{parts.path}"
        if parts.scheme not in ("postgresql", "postgres") or not port:
            raise ConfigError(
                f"COPQA_CATALOG__URL ({self.location}) is not a PostgreSQL URL: write it as "
                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or leave it empty for SQLite"
            )
        self._url = url
        self._connections = _PerThread(self._connect, _close)
        self._connections.get()  # an unreachable server fails now, not at the first question

    def _connect(self) -> psycopg.Connection:
        import psycopg

        try:
            return psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot reach the catalog at {self.location}: {self._reason(exc)}; start the "
                "server, or unset COPQA_CATALOG__URL for the embedded SQLite catalog"
            ) from exc

    def _reason(self, exc: BaseException) -> str:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return reason.replace(self._password, "***") if self._password else reason

    def _connection(self) -> psycopg.Connection:
        connection = self._connections.get()
        if connection.broken or connection.closed:  # the server restarted, or a proxy cut it
            self._connections.discard()
            connection = self._connections.get()
        return connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"lost the catalog at {self.location}: {self._reason(exc)}; try again"
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(
                f"the catalog at {self.location} cannot be used: {self._reason(exc)}"
            ) from exc

    def execute(self, sql: str, params: Sequence[object] = ()) -> Rows:
        with self._errors():
            return self._connection().execute(_placeholders(sql), _values(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._errors(), self._connection().cursor() as cursor:
            cursor.executemany(_placeholders(sql), [_values(row) for row in rows])

    def _create(self, schema: str) -> None:
        # Replicas starting together: one creates, the others then find everything there.
        with self.transaction():
            self.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            self.execute(
                "CREATE COLLATION IF NOT EXISTS copqa_nocase "
                "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
            )
            for statement in _postgres_schema(schema).split(";"):
                if statement.strip():
                    self.execute(statement)

    def columns(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {row[0] for row in rows}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._errors(), self._connection().transaction():
            yield

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """An advisory lock on a connection of its own: writers on every host."""
        connection = self._connect()
        try:
            with self._errors():
                connection.execute("SELECT pg_advisory_lock(%s)", (_WRITER_LOCK,))
            yield
        finally:
            connection.close()  # ends the session, which releases the lock

    def distinct_list(self, expression: str) -> str:
        return f"string_agg(DISTINCT {expression}, ',')"

    def reset_identities(self, tables: Sequence[str]) -> None:
        for table in tables:
            if "id" not in self.columns(table):
                continue
            sequence = self.execute("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchone()
            if sequence and sequence[0]:
                self.execute(
                    f"SELECT setval(?, (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)",
                    (sequence[0],),
                )

    def close(self) -> None:
        self._connections.close()


def _close(connection: psycopg.Connection) -> None:
    connection.close()


# A quoted literal (kept, but its % doubled), a ? placeholder, or a bare %.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")


@lru_cache(maxsize=256)
def _placeholders(sql: str) -> str:
    """`?` placeholders as psycopg's `%s`, and every literal `%` escaped for it."""

    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token == "?":
            return "%s"
        return token.replace("%", "%%")

    return _TOKENS.sub(replace, sql)


def _values(params: Sequence[object]) -> tuple[object, ...]:
    # PostgreSQL text cannot hold NUL, which some exports carry; SQLite kept it, unseen.
    return tuple(p.replace("\x00", "") if isinstance(p, str) else p for p in params)


_SCHEMA_WORDS = (
    (
        re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),  # epoch seconds outlive 2038
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bCOLLATE NOCASE\b"), "COLLATE copqa_nocase"),
)


def _postgres_schema(schema: str) -> str:
    """SQLite DDL in PostgreSQL's words."""
    for pattern, replacement in _SCHEMA_WORDS:
        schema = pattern.sub(replacement, schema)
    return schema
