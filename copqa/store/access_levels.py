"""The catalog's record of who may read what: documents' levels and the groups' members.

A document's row holds the level its format said (`format_access`) and the level its
readers are held to (`access`, with its source's). A group's members are kept per source,
as the source last listed them: re-ingesting an export that dropped a member drops them.
Only `copqa.store` uses this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from copqa.access import group_name, held_to
from copqa.models import Document
from copqa.store.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS access_groups (
    name TEXT NOT NULL, member TEXT NOT NULL, member_name TEXT NOT NULL,
    source_id TEXT NOT NULL, PRIMARY KEY (name, member, source_id));
"""


@dataclass(frozen=True)
class GroupMember:
    """One member of a group, as the source that lists them names them."""

    group: str
    member: str  # `kind:author_id`, as the member directory keys an author
    name: str


def readable_clause(levels: Sequence[str] | None, column: str) -> tuple[str, list[str]]:
    """SQL (` AND column IN (...)`) keeping the rows of these levels; "" for every level."""
    if levels is None:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(levels))})", list(levels)


class AccessLevels:
    """Levels and groups in the catalog's database (writes inside the catalog's transactions)."""

    def __init__(self, database: Database) -> None:
        self._db = database
        database.create(_SCHEMA)

    def write_members(self, source_id: str, document: Document) -> None:
        """The members of the document's group, as its source lists them now."""
        group = group_name(document.access)
        if not group:
            return
        self._db.execute(
            "DELETE FROM access_groups WHERE name = ? AND source_id = ?", (group, source_id)
        )
        self._db.executemany(
            "INSERT INTO access_groups VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(group, f"{document.kind}:{aid}", name, source_id) for aid, name in document.readers],
        )

    def forget_source(self, source_id: str) -> None:
        self._db.execute("DELETE FROM access_groups WHERE source_id = ?", (source_id,))

    def members(self) -> list[GroupMember]:
        rows = self._db.execute(
            "SELECT DISTINCT name, member, member_name FROM access_groups ORDER BY name, member"
        )
        return [GroupMember(*row) for row in rows]

    def groups_of(self, keys: Iterable[str], names: Iterable[str]) -> frozenset[str]:
        """The groups listing any of these member keys (`kind:author_id`) or names."""
        found: set[str] = set()
        for column, values in (("member", list(keys)), ("member_name", list(names))):
            for start in range(0, len(values), 500):
                batch = values[start : start + 500]
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    f"SELECT DISTINCT name FROM access_groups WHERE {column} IN ({marks})", batch
                )
                found |= {row[0] for row in rows}
        return frozenset(found)

    def set_source_level(self, source_id: str, level: str) -> tuple[dict[str, str], int]:
        """Hold a source's documents to a new level (its formats may narrow it further).

        Returns every chunk of the source with its level, and how many changed level.
        """
        self._db.execute("UPDATE sources SET access = ? WHERE id = ?", (level, source_id))
        rows = self._db.execute(
            "SELECT id, format_access, access FROM documents WHERE source_id = ?", (source_id,)
        ).fetchall()
        levels: dict[str, str] = {}
        changed = 0
        for document_id, format_level, old in rows:
            new = held_to(level, format_level)
            chunks = self._db.execute(
                "SELECT id, metadata FROM chunks WHERE document_id = ?", (document_id,)
            ).fetchall()
            levels.update(dict.fromkeys((cid for cid, _ in chunks), new))
            if new == old:
                continue
            changed += len(chunks)
            self._db.execute("UPDATE documents SET access = ? WHERE id = ?", (new, document_id))
            updates = []
            for chunk_id, metadata in chunks:
                values = json.loads(metadata)
                values["access"] = new
                updates.append((json.dumps(values, ensure_ascii=False), chunk_id))
            self._db.executemany("UPDATE chunks SET metadata = ? WHERE id = ?", updates)
        return levels, changed
