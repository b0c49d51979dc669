"""What the store answers from its catalog alone: sources, members, stored documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from copqa.access import PUBLIC
from copqa.models import Chunk, Document
from copqa.store.catalog import Catalog
from copqa.store.chroma import ChromaVectors
from copqa.store.forget_requests import ForgetRequest, ForgetRequests
from copqa.store.records import CatalogCounts, LibraryEntry, MemberRecord, SourceRecord


class CatalogLookups:
    """The store's reading side that needs no vector search (a part of `Store`)."""

    _catalog: Catalog
    _vectors: ChromaVectors
    _forget_requests: ForgetRequests

    def generation(self) -> int:
        """Moves on with every change, in any process: what a reader keeps is stale when it does."""
        return self._catalog.generation()

    def chunk_ids(self) -> set[str]:
        return self._catalog.all_chunk_ids()

    def vector_ids(self) -> set[str]:
        return self._vectors.ids()

    def chunks_by_id(self, ids: Iterable[str]) -> dict[str, Chunk]:
        """Stored chunks by id (without their posts); unknown ids are left out."""
        return self._catalog.chunks_by_id(ids)

    def counts(self) -> CatalogCounts:
        return self._catalog.counts()

    def vector_count(self) -> int:
        return self._vectors.count()

    def iter_chunks(self) -> Iterator[list[Chunk]]:
        """Every stored chunk, a batch at a time."""
        return self._catalog.iter_chunks()

    def sources(self) -> list[SourceRecord]:
        return self._catalog.sources()

    def source(self, source_id: str) -> SourceRecord | None:
        return self._catalog.source(source_id)

    def library(self, levels: Sequence[str] | None = (PUBLIC,)) -> list[LibraryEntry]:
        """Every source with its counts, as the library lists them to a reader of `levels`
        (`Reader.levels`; None: every level)."""
        return self._catalog.library(levels)

    def members(self) -> list[MemberRecord]:
        return self._catalog.members()

    def open_questions(self, limit: int, levels: Sequence[str] | None = (PUBLIC,)) -> list[str]:
        """The questions of the threads with the most voices, of these levels (the examples)."""
        return self._catalog.open_questions(limit, levels)

    def forgotten(self) -> frozenset[str]:
        """The author keys of forgotten members: ingestion leaves their posts out."""
        return self._catalog.forgotten()

    def pending_forgets(self) -> list[ForgetRequest]:
        return self._forget_requests.pending()

    def finish_forget(self, request: ForgetRequest) -> None:
        self._forget_requests.finish(request.id)

    def documents_of(self, keys: Iterable[str]) -> list[str]:
        """Ids of the documents these members wrote in or are @-mentioned in, sorted."""
        keys = list(keys)
        written = self._catalog.documents_by_authors(keys)
        return sorted({*written, *self._catalog.documents_mentioning(keys)})

    def stored_document(self, document_id: str) -> tuple[str, Document] | None:
        """A stored document with its source's id; None when it is gone."""
        return self._catalog.document(document_id)

    def document_hashes(self, source_id: str) -> dict[str, str]:
        """The source's stored documents: id -> content hash."""
        return self._catalog.document_hashes(source_id)

    def fingerprint(self, source_id: str) -> str:
        return self._catalog.fingerprint(source_id)

    def set_fingerprints(self, fingerprints: dict[str, str]) -> None:
        """Record how each source's files looked when all its documents were stored."""
        with self._catalog.transaction():
            self._catalog.set_fingerprints(fingerprints)

    def discussion_ids(self, kinds: Sequence[str] = ()) -> list[str]:
        """Every stored thread's id (of these kinds; empty: all), in a stable order."""
        return self._catalog.discussion_ids(kinds)

    def discussion(self, document_id: str) -> Document | None:
        """A stored thread with its posts; None when it is gone."""
        stored = self.stored_document(document_id)
        return stored[1] if stored is not None else None
