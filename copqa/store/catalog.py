"""The catalog: system of record for sources, documents, posts and chunks.

Kept in SQLite or PostgreSQL (`copqa.database`). The vector store and the keyword index
are derived from what is here and can be rebuilt from it. Only `copqa.store` uses this module.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, closing
from pathlib import Path

from copqa.models import Chunk, Document, Post, PostRef
from copqa.settings import CatalogSettings
from copqa.store.access_levels import readable_clause
from copqa.store.chunk_metadata import chunk_from_metadata, flat_metadata
from copqa.store.database import Database, catalog_exists, open_database
from copqa.store.records import CatalogCounts, LibraryEntry, MemberRecord, SourceRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, locator TEXT NOT NULL,
    uploader TEXT NOT NULL DEFAULT '', added_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    fingerprint TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source_id TEXT NOT NULL REFERENCES sources(id),
    kind TEXT NOT NULL, title TEXT NOT NULL, path TEXT NOT NULL, url TEXT NOT NULL,
    channel TEXT NOT NULL, author TEXT NOT NULL, created_at INTEGER,
    content_hash TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source_id);
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id), seq INTEGER NOT NULL,
    author_id TEXT NOT NULL, author_name TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER,
    url TEXT NOT NULL, reply_to TEXT, is_bot INTEGER NOT NULL, accepted INTEGER NOT NULL, score INTEGER);
CREATE INDEX IF NOT EXISTS posts_document ON posts(document_id);
CREATE INDEX IF NOT EXISTS posts_author ON posts(author_id);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id), seq INTEGER NOT NULL,
    text TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id);
CREATE TABLE IF NOT EXISTS forgotten (key TEXT PRIMARY KEY, forgotten_at INTEGER NOT NULL);
"""


# Columns added after the first release: (table, column, declaration).
_ADDED_COLUMNS = (
    ("sources", "fingerprint", "TEXT NOT NULL DEFAULT ''"),
    ("sources", "access", "TEXT NOT NULL DEFAULT ''"),  # the source's level (`copqa.access`)
    ("documents", "access", "TEXT NOT NULL DEFAULT ''"),  # the level its readers are held to
    ("documents", "format_access", "TEXT NOT NULL DEFAULT ''"),  # what its format said
)

# A post id met again (the same post in another export) takes the new row, as a replace would.
_UPSERT_POST = """INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id)
    DO UPDATE SET document_id = excluded.document_id, seq = excluded.seq,
    author_id = excluded.author_id, author_name = excluded.author_name, text = excluded.text,
    created_at = excluded.created_at, url = excluded.url, reply_to = excluded.reply_to,
    is_bot = excluded.is_bot, accepted = excluded.accepted, score = excluded.score"""


class Catalog:
    """The tables behind every stored text. Writes happen in explicit transactions.

    Safe to share between threads, as its database is. Whoever opened the database closes it.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        columns = database.columns("documents")
        before_levels = bool(columns) and "access" not in columns
        database.create(_SCHEMA, _ADDED_COLUMNS)
        if before_levels:
            # Its passages have no level yet (maintainers only): read every source again.
            database.execute("UPDATE sources SET fingerprint = ''")

    def transaction(self) -> AbstractContextManager[None]:
        return self._db.transaction()

    # --- meta -----------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def generation(self) -> int:
        """A counter that moves on with every change of the stored chunks."""
        return int(self.get_meta("generation") or 0)

    def bump_generation(self) -> int:
        """Move the generation on in one statement, so no two writers bump to the same value.

        Returns the new generation.
        """
        row = self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') ON CONFLICT (key) "
            "DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT) RETURNING value"
        ).fetchone()
        return int(row[0])

    # --- sources and documents ---------------------------------------------------
    def upsert_source(self, source: SourceRecord) -> None:
        now = int(time.time())
        self._db.execute(
            "INSERT INTO sources (id, kind, locator, uploader, added_at, updated_at, access) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "kind = excluded.kind, locator = excluded.locator, uploader = excluded.uploader, "
            "updated_at = excluded.updated_at, access = excluded.access",
            (source.id, source.kind, source.locator, source.uploader, now, now, source.access),
        )

    def sources(self) -> list[SourceRecord]:
        rows = self._db.execute(
            "SELECT id, kind, locator, uploader, access FROM sources ORDER BY locator"
        )
        return [SourceRecord(*row) for row in rows]

    def fingerprint(self, source_id: str) -> str:
        """What the source's files looked like when it was last ingested whole ("" if never)."""
        row = self._db.execute(
            "SELECT fingerprint FROM sources WHERE id = ?", (source_id,)
        ).fetchone()
        return str(row[0]) if row else ""

    def set_fingerprints(self, fingerprints: dict[str, str]) -> None:
        self._db.executemany(
            "UPDATE sources SET fingerprint = ? WHERE id = ?",
            [(fingerprint, source_id) for source_id, fingerprint in fingerprints.items()],
        )

    def document_hashes(self, source_id: str) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT id, content_hash FROM documents WHERE source_id = ?", (source_id,)
        )
        return dict(rows.fetchall())

    def chunk_ids(self, document_id: str) -> list[str]:
        rows = self._db.execute("SELECT id FROM chunks WHERE document_id = ?", (document_id,))
        return [row[0] for row in rows]

    def all_chunk_ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT id FROM chunks")}

    def write_document(
        self, source_id: str, document: Document, chunks: list[Chunk], access: str
    ) -> None:
        """Replace a document with its new posts and chunks (call inside `transaction`).

        `access` is the level its readers are held to (`copqa.access.held_to`).
        """
        self.delete_document(document.id)
        self._db.execute(
            "INSERT INTO documents (id, source_id, kind, title, path, url, channel, author, "
            "created_at, content_hash, updated_at, access, format_access) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.id, source_id, document.kind, document.title, document.path,
                document.url, document.channel, document.author, document.created_at,
                document.content_hash(), int(time.time()), access, document.access,
            ),
        )  # fmt: skip

        self._db.executemany(
            _UPSERT_POST,
            [_post_row(document.id, seq, post) for seq, post in enumerate(document.posts)],
        )
        self.insert_chunks(chunks)

    def insert_chunks(self, chunks: list[Chunk]) -> None:
        """Add chunk rows (call inside `transaction`); an id `{document_id}:{n}` gives the order."""
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
            [
                (c.id, c.document_id, int(c.id.rsplit(":", 1)[1]), c.text,
                 json.dumps(flat_metadata(c), ensure_ascii=False))
                for c in chunks
            ],
        )  # fmt: skip

    def delete_document(self, document_id: str) -> None:
        for table, column in (
            ("chunks", "document_id"),
            ("posts", "document_id"),
            ("documents", "id"),
        ):
            self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (document_id,))

    def delete_source(self, source_id: str) -> None:
        for document_id in self.document_hashes(source_id):
            self.delete_document(document_id)
        self._db.execute("DELETE FROM sources WHERE id = ?", (source_id,))

    # --- reading --------------------------------------------------------------------
    def chunks_by_id(self, ids: Iterable[str]) -> dict[str, Chunk]:
        """The stored chunks among `ids`, each with its source's uploader.

        The source's row is the record of who uploaded it, so chunks written before the
        uploader was kept on each chunk are credited to their uploader too.
        """
        rows = self._rows_with_ids("SELECT id, text, metadata FROM chunks", ids)
        chunks = {cid: chunk_from_metadata(cid, text, json.loads(meta)) for cid, text, meta in rows}
        sources = {c.source_id for c in chunks.values()}
        uploaders = dict(self._rows_with_ids("SELECT id, uploader FROM sources", sources))
        return {
            cid: dataclasses.replace(c, uploader=uploaders.get(c.source_id) or c.uploader)
            for cid, c in chunks.items()
        }

    def post_refs(self, ids: Iterable[str]) -> dict[str, PostRef]:
        rows = self._rows_with_ids(
            "SELECT id, author_name, created_at, url, seq = 0, is_bot, accepted FROM posts", ids
        )
        return {
            pid: PostRef(pid, name, created, url, bool(opener), bool(bot), bool(accepted))
            for pid, name, created, url, opener, bot, accepted in rows
        }

    def _rows_with_ids(self, select: str, ids: Iterable[str]) -> Iterator[tuple]:
        """Rows of `select` whose id is one of `ids`, asked 500 at a time (SQLite's bound limit)."""
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            yield from self._db.execute(f"{select} WHERE id IN ({marks})", batch).fetchall()

    def iter_chunks(self, batch: int = 1000) -> Iterator[list[Chunk]]:
        """Every stored chunk, in batches by id, for rebuilding derived indexes."""
        after = ""
        while rows := self._db.execute(
            "SELECT id, text, metadata FROM chunks WHERE id > ? ORDER BY id LIMIT ?",
            (after, batch),
        ).fetchall():
            yield [chunk_from_metadata(cid, text, json.loads(meta)) for cid, text, meta in rows]
            after = rows[-1][0]

    def counts(self) -> CatalogCounts:
        def count(sql: str) -> int:
            return int(self._db.execute(sql).fetchone()[0])

        return CatalogCounts(
            sources=count("SELECT count(*) FROM sources"),
            documents=count("SELECT count(*) FROM documents"),
            posts=count("SELECT count(*) FROM posts"),
            chunks=count("SELECT count(*) FROM chunks"),
            members=count(
                "SELECT count(*) FROM (SELECT author_id FROM posts WHERE author_id != '' "
                "UNION SELECT uploader FROM sources WHERE uploader != '') AS members"
            ),
        )

    def open_questions(self, limit: int, levels: Sequence[str] | None) -> list[str]:
        """Questions that opened the threads with the most voices: what the community asks.

        Only threads of these access levels (None: every level).
        """
        readable, params = readable_clause(levels, "d.access")
        rows = self._db.execute(
            "SELECT d.title FROM documents d JOIN posts p ON p.document_id = d.id "
            f"WHERE d.title LIKE '%?%'{readable} GROUP BY d.id "
            "HAVING count(DISTINCT p.author_id) > 1 "
            "ORDER BY count(DISTINCT p.author_id) DESC, count(*) DESC, max(p.created_at) DESC",
            params,
        )
        found: list[str] = []
        for (title,) in rows:
            question = title[: title.index("?") + 1].strip()
            if 15 <= len(question) <= 120 and question not in found:
                found.append(question)
            if len(found) == limit:
                break
        return found

    # --- members ----------------------------------------------------------------------
    def members(self) -> list[MemberRecord]:
        rows = self._db.execute(
            "SELECT p.author_id, max(p.author_name), d.kind, count(*), "
            f"{self._db.distinct_list('d.channel')}, min(p.created_at), max(p.created_at) "
            "FROM posts p JOIN documents d ON d.id = p.document_id "
            "WHERE p.author_id != '' GROUP BY p.author_id, d.kind ORDER BY count(*) DESC"
        )
        return [
            MemberRecord(aid, name, kind, n, _channels(chans), first, last)
            for aid, name, kind, n, chans, first, last in rows
        ]

    def documents_by_authors(self, keys: Iterable[str]) -> list[str]:
        """Documents holding a post whose author id or name is one of `keys`."""
        wanted = list(keys)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(
            f"SELECT DISTINCT document_id FROM posts WHERE author_id IN ({marks}) "
            f"OR author_name IN ({marks})",
            wanted + wanted,
        )
        return [row[0] for row in rows]

    def documents_mentioning(self, names: Iterable[str]) -> list[str]:
        """Documents holding a post with `@name` in it, in any letter case."""
        found: set[str] = set()
        for name in names:
            rows = self._db.execute(
                "SELECT DISTINCT document_id FROM posts WHERE lower(text) LIKE ?",
                (f"%@{name.lower()}%",),
            )
            found.update(row[0] for row in rows)
        return sorted(found)

    def forget(self, keys: Iterable[str]) -> None:
        now = int(time.time())
        self._db.executemany(
            "INSERT INTO forgotten (key, forgotten_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            [(k, now) for k in keys],
        )

    def forgotten(self) -> frozenset[str]:
        return frozenset(row[0] for row in self._db.execute("SELECT key FROM forgotten"))

    def document(self, document_id: str) -> tuple[str, Document] | None:
        """A stored discussion document rebuilt from its rows, with its source id."""
        row = self._db.execute(
            "SELECT source_id, id, kind, title, path, url, channel, author, created_at "
            "FROM documents WHERE id = ?",
            (document_id,),
        ).fetchone()
        if row is None:
            return None
        posts = self._db.execute(
            "SELECT id, author_id, author_name, text, created_at, url, reply_to, is_bot, "
            "accepted, score FROM posts WHERE document_id = ? ORDER BY seq",
            (document_id,),
        )
        doc_id, kind, title, path, url, channel, author, created_at = row[1:]
        return row[0], Document(
            doc_id,
            kind,
            title,
            path,
            url,
            channel,
            author,
            created_at,
            posts=tuple(
                Post(pid, aid, name, text, created, url, reply, bool(bot), bool(acc), score)
                for pid, aid, name, text, created, url, reply, bot, acc, score in posts
            ),
        )

    def discussion_ids(self, kinds: Sequence[str] = ()) -> list[str]:
        """Ids of the documents that have posts (of these kinds, if any), by kind, place and date."""
        wanted = list(kinds)
        only = f"AND kind IN ({','.join('?' * len(wanted))})" if wanted else ""
        rows = self._db.execute(
            "SELECT id FROM documents d WHERE EXISTS "
            f"(SELECT 1 FROM posts p WHERE p.document_id = d.id) {only} "
            "ORDER BY kind, channel, created_at, id",
            wanted,
        )
        return [row[0] for row in rows]

    def source(self, source_id: str) -> SourceRecord | None:
        row = self._db.execute(
            "SELECT id, kind, locator, uploader, access FROM sources WHERE id = ?", (source_id,)
        ).fetchone()
        return SourceRecord(*row) if row else None

    # --- the library ----------------------------------------------------------------
    def library(self, levels: Sequence[str] | None) -> list[LibraryEntry]:
        """Every source with what it holds, most recently updated first.

        Of each source, only its documents of these access levels (None: every level) are
        counted and named; a source with none of them is not listed.
        """
        channel_list = self._db.distinct_list("NULLIF(d.channel, '')")
        readable, params = readable_clause(levels, "d.access")
        inner, inner_params = readable_clause(levels, "d2.access")
        rows = self._db.execute(
            "SELECT s.id, s.kind, s.locator, s.uploader, s.updated_at, "
            f"{channel_list}, count(DISTINCT d.id), "
            "(SELECT count(*) FROM chunks c JOIN documents d2 ON d2.id = c.document_id "
            f" WHERE d2.source_id = s.id{inner}), min(d.title), max(d.created_at), s.access "
            f"FROM sources s LEFT JOIN documents d ON d.source_id = s.id{readable} "
            "GROUP BY s.id ORDER BY s.updated_at DESC, s.locator",
            [*inner_params, *params],
        )
        return [
            LibraryEntry(
                sid, kind, locator, uploader, updated,
                _channels(channels),
                documents, chunks, title or "", created, access,
            )
            for sid, kind, locator, uploader, updated, channels, documents, chunks, title, created,
            access in rows
            if documents or levels is None
        ]  # fmt: skip


def _channels(joined: str | None) -> tuple[str, ...]:
    """An aggregate's 'b,a' as ('a', 'b'): the same order from every database."""
    return tuple(sorted(c for c in (joined or "").split(",") if c))


def _post_row(document_id: str, seq: int, post: Post) -> tuple[object, ...]:
    return (
        post.id, document_id, seq, post.author_id, post.author_name, post.text, post.created_at,
        post.url, post.reply_to, int(post.is_bot), int(post.accepted), post.score,
    )  # fmt: skip


def read_library(
    home: Path, levels: Sequence[str] | None, settings: CatalogSettings | None = None
) -> list[LibraryEntry]:
    """The library of the catalog in `home` as a reader of `levels` sees it, read without
    opening the vectors; creates nothing."""
    if not catalog_exists(home, settings):
        return []
    with closing(open_database(home, settings)) as database:
        return Catalog(database).library(levels)
