"""What the catalog hands out: rows of its sources, members and library, and its counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceRecord:
    id: str
    kind: str
    locator: str
    uploader: str
    access: str = ""  # its level (`copqa.access`): what its format leaves open is held to it


@dataclass(frozen=True)
class MemberRecord:
    """One author as one source knows them (the alias map may merge several)."""

    author_id: str
    name: str
    kind: str
    posts: int
    channels: tuple[str, ...]
    first_seen: int | None
    last_seen: int | None


@dataclass(frozen=True)
class LibraryEntry:
    """One source as the library lists it."""

    source_id: str
    kind: str
    locator: str
    uploader: str
    updated_at: int
    channels: tuple[str, ...]
    documents: int
    chunks: int
    title: str  # the first document's title: a file's own title
    created_at: int | None  # the newest document's date
    access: str = ""  # the source's level; its formats may narrow some documents further


@dataclass(frozen=True)
class CatalogCounts:
    sources: int
    documents: int
    posts: int
    chunks: int
    members: int
