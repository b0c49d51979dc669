"""The store: the catalog (system of record) and the vector index derived from it.

Write order keeps the two consistent through a crash: every chunk the catalog holds has
its vector. New vectors are written before the catalog commits, so an interrupted document
still looks new or changed to the next run, which rewrites it under the same deterministic
ids; vectors are deleted only after the catalog no longer holds their chunks. A change
that did not finish (an ingestion, a deletion, forgetting a member) leaves a mark; the next
one then removes the vectors the catalog does not know (`reconcile`).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copqa import home as layout
from copqa.errors import StoreError
from copqa.models import NO_FILTER, Chunk, Document, PostRef, ScoredChunk, SearchFilter
from copqa.settings import CatalogSettings, ChromaSettings, Settings
from copqa.store.access_levels import AccessLevels, GroupMember
from copqa.store.catalog import Catalog
from copqa.store.chroma import ChromaVectors
from copqa.store.chunk_metadata import flat_metadata
from copqa.store.database import open_database
from copqa.store.forget_requests import ForgetRequests
from copqa.store.keyword_index import KeywordIndex, keyword_text, remove_scratch
from copqa.store.lookups import CatalogLookups
from copqa.store.records import SourceRecord

_UNFINISHED_RUN = "unfinished_run"
DELETE_BATCH = 512  # chunks whose rows, then vectors, a deletion removes together


@dataclass(frozen=True)
class PreparedDocument:
    """A document cut into chunks and embedded, ready to replace its stored version."""

    source: SourceRecord
    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray
    access: str  # the level its readers are held to (its chunks carry it too)


class Store(CatalogLookups):
    """Everything copqa keeps under `COPQA_HOME`, behind one small interface."""

    def __init__(
        self,
        home: Path,
        model_identity: str,
        dimension: int,
        chroma: ChromaSettings | None = None,
        catalog: CatalogSettings | None = None,
    ) -> None:
        """Open (or create) the store in `home`.

        Args:
            chroma: Where the vectors live; None: embedded, under `home`.
            catalog: Where the catalog lives; None: a SQLite file in `home`.
        """
        home.mkdir(parents=True, exist_ok=True)
        remove_scratch(home)  # what killed keyword-index saves left: never read, only in the way
        self.home = home
        self.model_identity = model_identity
        self.dimension = dimension
        chroma = chroma or ChromaSettings()
        # Vectors first: a Chroma server that is down fails before any file is opened.
        self._vectors = ChromaVectors.open(
            home / layout.VECTORS, model_identity, dimension, chroma.url, chroma.collection
        )
        try:
            self._database = open_database(home, catalog)
        except BaseException:
            self._vectors.close()
            raise
        try:
            self._catalog = Catalog(self._database)
            self._access = AccessLevels(self._database)
            self._forget_requests = ForgetRequests(self._database)
        except BaseException:
            self.close()
            raise
        self._keywords: KeywordIndex | None = None
        self._keywords_lock = threading.Lock()
        self._writer = threading.RLock()
        self._writer_depth = 0
        self._vectors_generation = self._catalog.generation()
        self._vectors_lock = threading.Lock()
        self._pending_work: Callable[[], object] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, model_identity: str, dimension: int) -> Store:
        """The store the settings name, for vectors of this model."""
        return cls(settings.home, model_identity, dimension, settings.chroma, settings.catalog)

    def close(self) -> None:
        self._database.close()
        self._vectors.close()

    # --- writing ----------------------------------------------------------------------
    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the catalog's write lock: one writer across threads, processes and replicas.

        With SQLite, a lock file beside it; with PostgreSQL, an advisory lock every host sees.

        Reentrant within a thread, so an ingestion may delete what it prunes.
        """
        with self._writer:
            if self._writer_depth:
                self._writer_depth += 1
                try:
                    yield
                finally:
                    self._writer_depth -= 1
                return
            with self._database.writer_lock():
                self._writer_depth = 1
                try:
                    yield
                finally:
                    self._writer_depth = 0

    def finish_pending_with(self, work: Callable[[], object]) -> None:
        """What every change runs first: carrying out the recorded forget requests.

        Set by whoever can re-chunk and embed (`ingest.factory.build_pipeline`).
        """
        self._pending_work = work

    def request_forget(self, keys: Sequence[str]) -> None:
        """Record, in one transaction, that these author keys are forgotten and must go."""
        with self._catalog.transaction():
            self._catalog.forget(keys)
            self._forget_requests.record(keys)

    @contextmanager
    def changing(self, finish_pending: bool = True) -> Iterator[None]:
        """Hold the write lock for a change of several steps; repairs what a killed one left.

        The mark set here outlives a crash, so the next change first drops the vectors the
        catalog does not know. Then it finishes any pending forget request, before its own
        work (`finish_pending=False`: the change is that work). Nested in another change (an
        ingestion that prunes), the outer one holds the mark.

        Raises:
            StoreError: A forget request is pending and this store cannot carry it out.
        """
        with self.exclusive():
            if self._writer_depth > 1:
                yield
                return
            self.repair()
            self._catalog.set_meta(_UNFINISHED_RUN, str(os.getpid()))  # who left it, if killed
            if finish_pending and self._forget_requests.pending():
                if self._pending_work is None:
                    raise StoreError(
                        "forgetting a member did not finish; run `copqa ingest` (any path) or "
                        "`copqa members forget` again to finish it, then retry"
                    )
                self._pending_work()
            yield
            self._catalog.set_meta(_UNFINISHED_RUN, None)

    def settle(self) -> None:
        """Finish now what a killed change left, if anything (at a page's start)."""
        if self._catalog.get_meta(_UNFINISHED_RUN) is not None or self._forget_requests.pending():
            with self.changing():
                pass

    def repair(self) -> None:
        """Drop what a killed change left (vectors the catalog does not know); hold `exclusive`."""
        if self._catalog.get_meta(_UNFINISHED_RUN) is not None:
            self.reconcile()
            self._catalog.set_meta(_UNFINISHED_RUN, None)

    def write(self, prepared: Sequence[PreparedDocument]) -> None:
        """Replace these documents: new vectors first, then the catalog in one transaction.

        The vectors of chunks that are gone are deleted last: a crash before that leaves
        orphans (the next change drops them), never a stored chunk without its vector.
        """
        stale: list[str] = []
        for item in prepared:
            new_ids = {c.id for c in item.chunks}
            stale += [
                cid for cid in self._catalog.chunk_ids(item.document.id) if cid not in new_ids
            ]
        chunks = [c for item in prepared for c in item.chunks]
        if chunks:
            self._vectors.upsert(
                [c.id for c in chunks],
                np.concatenate([item.vectors for item in prepared if item.chunks]),
                [flat_metadata(c) for c in chunks],
            )
        with self._catalog.transaction():
            for source in {item.source.id: item.source for item in prepared}.values():
                self._catalog.upsert_source(source)
            for item in prepared:
                self._catalog.write_document(
                    item.source.id, item.document, item.chunks, item.access
                )
                self._access.write_members(item.source.id, item.document)
            self._bump_generation()
        if stale:
            self._vectors.delete(stale)

    def delete_documents(self, document_ids: Sequence[str]) -> None:
        """Remove documents: their catalog rows in one transaction, then their vectors."""
        if not document_ids:
            return  # nothing changes, so the generation (and the keyword index) stays
        with self.changing():
            chunk_ids = [cid for d in document_ids for cid in self._catalog.chunk_ids(d)]
            with self._catalog.transaction():
                for document_id in document_ids:
                    self._catalog.delete_document(document_id)
                self._bump_generation()
            self._vectors.delete(chunk_ids)

    def delete_source(self, source_id: str, batch: int = DELETE_BATCH) -> None:
        """Remove a source with its documents, posts, chunks and vectors.

        Documents go about `batch` chunks a transaction, the last ones with the source's own
        row: a crash leaves it listed with fewer documents, and deleting it again finishes.
        """
        with self.changing():
            group: list[str] = []
            chunk_ids: list[str] = []
            for document_id in self._catalog.document_hashes(source_id):
                group.append(document_id)
                chunk_ids += self._catalog.chunk_ids(document_id)
                if len(chunk_ids) >= batch:
                    self.delete_documents(group)
                    group, chunk_ids = [], []
            with self._catalog.transaction():
                self._catalog.delete_source(source_id)
                self._access.forget_source(source_id)
                self._bump_generation()
            self._vectors.delete(chunk_ids)

    def set_access(self, source_id: str, level: str) -> int:
        """Hold a source to a level (`copqa.access`); returns how many passages changed level.

        The catalog first (what every search checks its finds against), then the vectors'
        copies, so a search never shows a passage at a level it no longer has. A crash
        between the two leaves vectors at the old level (the catalog's check holds); running
        it again sets every vector of the source.
        """
        with self.changing():
            with self._catalog.transaction():
                levels, changed = self._access.set_source_level(source_id, level)
                self._bump_generation()
            self._vectors.set_levels(levels)
        return changed

    def groups_of(self, keys: Iterable[str], names: Iterable[str]) -> frozenset[str]:
        """The groups whose sources list any of these member keys (`kind:author_id`) or names."""
        return self._access.groups_of(keys, names)

    def group_members(self) -> list[GroupMember]:
        return self._access.members()

    def reconcile(self) -> int:
        """Drop vectors the catalog does not know; returns how many were removed."""
        orphans = self._vectors.ids() - self._catalog.all_chunk_ids()
        self._vectors.delete(orphans)
        return len(orphans)

    def changed(self) -> None:
        """Move the generation on: every reader, in any process, reloads what it keeps."""
        with self._catalog.transaction():
            self._bump_generation()

    def _bump_generation(self) -> None:
        """Move the generation on for this process's own change (in its transaction).

        This process's vectors need no reload for it, unless another writer's change came
        between the generation they were loaded at and this one.
        """
        generation = self._catalog.bump_generation()
        with self._vectors_lock:
            if self._vectors_generation == generation - 1:
                self._vectors_generation = generation

    def check_vectors(self) -> None:
        """Raise if stored chunks have lost their vectors (the vector store was lost or damaged).

        Raises:
            StoreError: Fewer vectors than chunks, with no change under way to explain it.
        """
        if self._catalog.get_meta(_UNFINISHED_RUN) is not None:
            return  # a change is running, or was killed: the next one repairs what it left
        chunks, vectors = self._catalog.counts().chunks, self._vectors.count()
        if vectors < chunks:
            raise StoreError(
                f"the vector store at {self._vectors.location} holds {vectors} vectors for the "
                f"catalog's {chunks} chunks: it was lost or damaged; `copqa rebuild` makes the "
                "vectors again from the catalog"
            )

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index, brought up to date with the catalog when it has moved on."""
        generation = self._catalog.generation()
        index = self._keywords
        if index is not None and index.generation == generation:
            return index
        with self._keywords_lock:  # several askers after a change: one rebuild
            if self._keywords is not None and self._keywords.generation == generation:
                return self._keywords
            folder = self.home / layout.KEYWORD_INDEX
            index = KeywordIndex.load(folder)
            if index is None or index.generation != generation:
                texts = (
                    (c.id, keyword_text(c), c.access)
                    for b in self._catalog.iter_chunks()
                    for c in b
                )
                index = KeywordIndex.build(texts, generation)
                index.save(folder)
            self._keywords = index
            return index

    # --- reading ----------------------------------------------------------------------
    def search(
        self, vector: np.ndarray, k: int, where: SearchFilter = NO_FILTER
    ) -> list[ScoredChunk]:
        """Nearest chunks, their texts read from the catalog (a deleted chunk never shows).

        The vector query is filtered by `where` (its levels too); what it finds is checked
        again against the catalog's levels, which a change of level writes first.
        """
        hits = self.chunks(self._current_vectors().query(vector, k, where))
        return [hit for hit in hits if where.admits(hit.chunk)]

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of stored chunks to a unit vector."""
        return {cid: float(v @ vector) for cid, v in self.stored_vectors(ids).items()}

    def _current_vectors(self) -> ChromaVectors:
        """The vectors, with what any process wrote since this one last looked."""
        generation = self._catalog.generation()
        if generation != self._vectors_generation:
            with self._vectors_lock:
                if generation != self._vectors_generation:
                    self._vectors.refresh()
                    self._vectors_generation = generation
        return self._vectors

    def chunks(self, hits: Sequence[tuple[str, float]]) -> list[ScoredChunk]:
        """Scored chunk ids as chunks with their posts; ids no longer stored are left out."""
        chunks = self._catalog.chunks_by_id(cid for cid, _ in hits)
        refs = self._catalog.post_refs(pid for c in chunks.values() for pid in c.post_ids)
        return [
            ScoredChunk(_with_posts(chunks[cid], refs), score)
            for cid, score in hits
            if cid in chunks
        ]

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k nearest chunk ids and similarities, from the vectors alone (benchmarks)."""
        return self._current_vectors().query(vector, k)

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self._current_vectors().vectors(ids)

    def append_copies(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Chunks written beside the documents they copy (a benchmark's larger store)."""
        self._vectors.upsert([c.id for c in chunks], vectors, [flat_metadata(c) for c in chunks])
        with self._catalog.transaction():
            self._catalog.insert_chunks(list(chunks))
            self._bump_generation()


def _with_posts(chunk: Chunk, refs: dict[str, PostRef]) -> Chunk:
    if not chunk.post_ids:
        return chunk
    return dataclasses.replace(chunk, posts=tuple(refs[p] for p in chunk.post_ids if p in refs))
