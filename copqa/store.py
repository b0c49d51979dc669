"""The store: the catalog (system of record) and the vector index derived from it.

Write order keeps the two consistent through a crash: vectors are written before the
catalog commits, so an interrupted document still looks new or changed to the next run,
which rewrites it under the same deterministic ids. A run that did not finish leaves a
mark; the next run then removes vectors the catalog does not know (`reconcile`).
"""

from __future__ import annotations

import dataclasses
import fcntl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copqa.activity import ActivityLog
from copqa.catalog import Catalog, CatalogCounts, SourceRecord
from copqa.keyword_index import KeywordIndex, keyword_text
from copqa.models import Chunk, Document, PostRef, ScoredChunk
from copqa.settings import ChromaSettings
from copqa.vector_store import ChromaVectors

_UNFINISHED_RUN = "unfinished_run"


@dataclass(frozen=True)
class PreparedDocument:
    """A document cut into chunks and embedded, ready to replace its stored version."""

    source: SourceRecord
    document: Document
    chunks: list[Chunk]
    vectors: np.ndarray


class Store:
    """Everything copqa keeps under `COPQA_HOME`, behind one small interface."""

    def __init__(
        self,
        home: Path,
        model_identity: str,
        dimension: int,
        chroma: ChromaSettings | None = None,
    ) -> None:
        """Open (or create) the store in `home`.

        Args:
            chroma: Where the vectors live; None: embedded, under `home`.
        """
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.model_identity = model_identity
        chroma = chroma or ChromaSettings()
        # Vectors first: a Chroma server that is down fails before any file is opened.
        self.vectors = ChromaVectors.open(
            home / "chroma", model_identity, dimension, chroma.url, chroma.collection
        )
        self.catalog = Catalog(home / "catalog.sqlite3")
        self.activity = ActivityLog(self.catalog.path)
        self._keywords: KeywordIndex | None = None
        self._keywords_lock = threading.Lock()
        self._writer = threading.RLock()
        self._writer_depth = 0

    def close(self) -> None:
        self.activity.close()
        self.catalog.close()
        self.vectors.close()

    # --- writing ----------------------------------------------------------------------
    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the home's write lock: one writer at a time across threads and processes.

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
            with open(self.home / "ingest.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._writer_depth = 1
                try:
                    yield
                finally:
                    self._writer_depth = 0

    @contextmanager
    def ingestion(self, paths: list[str]) -> Iterator[int]:
        """One ingestion at a time per home; repairs what an interrupted run left."""
        with self.exclusive():
            if self.catalog.get_meta(_UNFINISHED_RUN) is not None:
                self.reconcile()
            run_id = self.activity.start_run(paths)
            self.catalog.set_meta(_UNFINISHED_RUN, str(run_id))
            yield run_id
            self.catalog.set_meta(_UNFINISHED_RUN, None)

    def write(self, prepared: Sequence[PreparedDocument]) -> None:
        """Replace these documents: vectors first, then the catalog, in one transaction."""
        stale: list[str] = []
        for item in prepared:
            new_ids = {c.id for c in item.chunks}
            stale += [cid for cid in self.catalog.chunk_ids(item.document.id) if cid not in new_ids]
        if stale:
            self.vectors.delete(stale)
        chunks = [c for item in prepared for c in item.chunks]
        if chunks:
            self.vectors.upsert(
                [c.id for c in chunks],
                np.concatenate([item.vectors for item in prepared if item.chunks]),
                [c.metadata() for c in chunks],
            )
        with self.catalog.transaction():
            for source in {item.source.id: item.source for item in prepared}.values():
                self.catalog.upsert_source(source)
            for item in prepared:
                self.catalog.write_document(item.source.id, item.document, item.chunks)
            self.catalog.bump_generation()

    def delete_documents(self, document_ids: Sequence[str]) -> None:
        if not document_ids:
            return  # nothing changes, so the generation (and the keyword index) stays
        with self.exclusive():
            self.vectors.delete(self._chunk_ids_of(document_ids))
            with self.catalog.transaction():
                for document_id in document_ids:
                    self.catalog.delete_document(document_id)
                self.catalog.bump_generation()

    def delete_source(self, source_id: str) -> None:
        """Remove a source with its documents, posts, chunks and vectors."""
        with self.exclusive():
            self.vectors.delete(self._chunk_ids_of(list(self.catalog.document_hashes(source_id))))
            with self.catalog.transaction():
                self.catalog.delete_source(source_id)
                self.catalog.bump_generation()

    def _chunk_ids_of(self, document_ids: Sequence[str]) -> list[str]:
        return [cid for d in document_ids for cid in self.catalog.chunk_ids(d)]

    def reconcile(self, embed: Callable[[list[str]], np.ndarray] | None = None) -> int:
        """Drop vectors the catalog does not know; with `embed`, restore missing ones.

        Returns how many vectors were removed or restored.
        """
        known = self.catalog.all_chunk_ids()
        indexed = self.vectors.ids()
        orphans = indexed - known
        self.vectors.delete(orphans)
        missing = known - indexed
        if embed is not None and missing:
            for chunk_batch in _batches(sorted(missing), 512):
                chunks = list(self.catalog.chunks_by_id(chunk_batch).values())
                vectors = embed([embedding_text(c) for c in chunks])
                self.vectors.upsert([c.id for c in chunks], vectors, [c.metadata() for c in chunks])
            return len(orphans) + len(missing)
        return len(orphans)

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index, brought up to date with the catalog when it has moved on."""
        generation = self.catalog.generation()
        index = self._keywords
        if index is not None and index.generation == generation:
            return index
        with self._keywords_lock:  # several askers after a change: one rebuild
            if self._keywords is not None and self._keywords.generation == generation:
                return self._keywords
            folder = self.home / "keyword"
            index = KeywordIndex.load(folder)
            if index is None or index.generation != generation:
                texts = ((c.id, keyword_text(c)) for b in self.catalog.iter_chunks() for c in b)
                index = KeywordIndex.build(texts, generation)
                index.save(folder)
            self._keywords = index
            return index

    # --- reading ----------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[ScoredChunk]:
        """Nearest chunks, their texts read from the catalog (a deleted chunk never shows)."""
        return self.chunks(self.vectors.query(vector, k, where))

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of stored chunks to a unit vector."""
        return {cid: float(v @ vector) for cid, v in self.vectors.vectors(ids).items()}

    def chunks(self, hits: Sequence[tuple[str, float]]) -> list[ScoredChunk]:
        """Scored chunk ids as chunks with their posts; ids no longer stored are left out."""
        chunks = self.catalog.chunks_by_id(cid for cid, _ in hits)
        refs = self.catalog.post_refs(pid for c in chunks.values() for pid in c.post_ids)
        return [
            ScoredChunk(_with_posts(chunks[cid], refs), score)
            for cid, score in hits
            if cid in chunks
        ]

    def counts(self) -> CatalogCounts:
        return self.catalog.counts()


# ~25 and ~15 word pieces: with a 200-piece chunk, within the model's 256.
TITLE_CHARS = 100
SECTION_CHARS = 60


def embedding_text(chunk: Chunk) -> str:
    """What the model reads for a chunk: title and section for context, then its text."""
    section = chunk.heading.rsplit(" / ", 1)[-1][:SECTION_CHARS]
    context = [chunk.title[:TITLE_CHARS], section if section != chunk.title else ""]
    return "\n".join([*(c for c in context if c), chunk.text])


def _with_posts(chunk: Chunk, refs: dict[str, PostRef]) -> Chunk:
    if not chunk.post_ids:
        return chunk
    return dataclasses.replace(chunk, posts=tuple(refs[p] for p in chunk.post_ids if p in refs))


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
