"""Ingestion: find sources, load them, skip what is unchanged, chunk, embed, store.

Incremental by content hash: an unchanged document costs a parse and a hash, nothing
more. Embedding runs over large batches of chunks from many documents at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from copqa.access import GROUP, PUBLIC, group_name, held_to
from copqa.embedding import Embedder, embedding_text
from copqa.models import Chunk, Document, LoadFailure, stable_id
from copqa.store import PreparedDocument, SourceRecord, Store
from ingest.chunking import Chunker
from ingest.scrubbing import without_authors
from ingest.sources import FoundSource, SourceFinder, file_sizes, fingerprint


@dataclass(frozen=True)
class IngestProgress:
    """Where an ingestion stands; `read_bytes` out of `total_bytes` gives its ETA.

    Attributes:
        documents: new and changed documents chunked, embedded and written.
        chunks: chunks written.
        read_bytes: bytes of the sources read so far (unchanged sources count as read).
        total_bytes: bytes of every source found, known before any is read.
    """

    documents: int
    chunks: int
    read_bytes: int
    total_bytes: int


Progress = Callable[[IngestProgress], None]
"""Called with an `IngestProgress` as ingestion goes on."""

# glibc's M_MMAP_THRESHOLD. Left alone, glibc raises it as large blocks are freed, so the
# model's activations (a new size for every batch of texts) end up in a heap that keeps its
# high-water mark: ingestion's peak then grew with the export (1.18x for three copies of
# a Slack export; 1.06x with this). Blocks from 64 KiB up are mapped and returned when freed.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 64 * 1024


def _return_large_blocks_to_the_os() -> None:
    if sys.platform != "linux":
        return
    # Not glibc (musl has no libc.so.6 nor mallopt): nothing to tune.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


@dataclass
class IngestReport:
    """What one ingestion did; `to_json` is the `copqa ingest --json` shape."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    failed: list[LoadFailure] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "chunks": self.chunks,
            "failed": [{"path": f.path, "error": f.error} for f in self.failed],
            "seconds": round(self.seconds, 3),
        }


class RunLog(Protocol):
    """Where ingestion runs are recorded (the community's activity log)."""

    def start_run(self, paths: list[str]) -> int: ...

    def finish_run(self, run_id: int, report: dict[str, object]) -> None: ...


class IngestPipeline:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        chunker: Chunker,
        finder: SourceFinder,
        embed_batch: int = 512,
        max_file_bytes: int | None = None,
        settings_fingerprint: str = "",
        runs: RunLog | None = None,
    ) -> None:
        """`runs`: where each run is recorded; None for a throw-away store (evaluation, benchmarks)."""
        _return_large_blocks_to_the_os()
        self._runs = runs
        self._settings_fingerprint = settings_fingerprint
        self._store = store
        self._embedder = embedder
        self._chunker = chunker
        self._finder = finder
        self._embed_batch = embed_batch
        self._max_file_bytes = max_file_bytes

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        kind: str | None = None,
        uploader: str = "",
        access: str = "",
        prune: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Read the sources under `paths` and store what is new or changed.

        Args:
            access: The sources' level (`copqa.access`): what their formats leave open is held
                to it. "" keeps the level a source has, or makes a new one public.
        """
        started = time.perf_counter()
        report = IngestReport()
        roots = [p.resolve() for p in paths]
        with self._store.changing():
            run_id = self._runs.start_run([str(p) for p in roots]) if self._runs else None
            # Sources are listed first (paths only, nothing read) so their size is known.
            sources: list[FoundSource] = []
            for root in roots:
                for found in self._finder.find(root, kind):
                    if isinstance(found, LoadFailure):
                        report.failed.append(found)
                    else:
                        sources.append(found)
            tracker = _Tracker(progress, report, [f.path for f in sources])
            # One batch across all sources: a folder of small files embeds like one big file.
            batch = _Batch(self._embed_batch, self.write, report, tracker.written)
            forgotten = self._store.forgotten()
            fingerprints: dict[str, str] = {}
            for found in sources:
                tracker.start_source(found.path)
                source = self._source(found, uploader, access)
                fingerprints.update(
                    self._ingest_source(found, source, forgotten, prune, report, batch, tracker)
                )
                tracker.finish_source()
            batch.flush()
            # Only now is every document of these sources stored: a crash before this
            # line leaves the old fingerprints, and the next run reads the files again.
            self._store.set_fingerprints(fingerprints)
            if prune:
                report.removed += self._prune_missing(roots)
            if report.added or report.updated or report.removed:
                self._store.keyword_index()  # rebuilt now, not on the next question
            report.seconds = time.perf_counter() - started
            if self._runs and run_id is not None:
                self._runs.finish_run(run_id, report.to_json())
        return report

    def _source(self, found: FoundSource, uploader: str, access: str) -> SourceRecord:
        """The source's record, at the level asked for; its stored passages follow a new level."""
        source_id = stable_id("source", found.loader.kind, found.path)
        known = self._store.source(source_id)
        level = access or (known.access if known else "") or PUBLIC
        if known is not None and known.access and known.access != level:
            self._store.set_access(source_id, level)
        return SourceRecord(source_id, found.loader.kind, str(found.path), uploader, level)

    def _ingest_source(
        self,
        found: FoundSource,
        source: SourceRecord,
        forgotten: frozenset[str],
        prune: bool,
        report: IngestReport,
        batch: _Batch,
        tracker: _Tracker,
    ) -> dict[str, str]:
        """Queue the source's new and changed documents; its fingerprint if it read cleanly."""
        too_big = self._size_refusal(found.path)
        if too_big:
            report.failed.append(LoadFailure(str(found.path), too_big))
            return {}
        uploader = source.uploader
        stored = self._store.document_hashes(source.id)
        looks = fingerprint(found.path, self._settings_fingerprint, uploader)
        if stored and looks == self._store.fingerprint(source.id):
            report.unchanged += len(stored)  # not a byte changed: not even read again
            return {}
        seen: set[str] = set()
        failed = False
        for item in _guarded(found):
            if isinstance(item, LoadFailure):
                report.failed.append(item)
                failed = True
                continue
            seen.add(item.id)
            tracker.document_read(item.path)
            document = without_authors(
                _attributed(_in_source_group(item, source.id), uploader), forgotten
            )
            if document is None:
                continue
            if stored.get(document.id) == document.content_hash():
                report.unchanged += 1
                continue
            if document.id in stored:
                report.updated += 1
            else:
                report.added += 1
            batch.add(source, document)
        if prune and seen:
            gone = [doc_id for doc_id in stored if doc_id not in seen]
            self._store.delete_documents(gone)
            report.removed += len(gone)
        # A source with a bad file is read again next time, so the failure is reported again.
        return {} if failed else {source.id: looks}

    def _prune_missing(self, roots: list[Path]) -> int:
        """Forget the sources under these roots whose file or folder no longer exists."""
        removed = 0
        for source in self._store.sources():
            located = Path(source.locator)
            under = any(located == root or root in located.parents for root in roots)
            if under and not located.exists():
                removed += len(self._store.document_hashes(source.id))
                self._store.delete_source(source.id)
        return removed

    def _size_refusal(self, path: Path) -> str:
        if self._max_file_bytes is None or not path.is_file():
            return ""
        size = path.stat().st_size
        if size <= self._max_file_bytes:
            return ""
        return (
            f"too large: {size / 2**20:.1f} MB, the limit is {self._max_file_bytes / 2**20:.1f} MB"
        )

    def write(self, documents: Sequence[tuple[SourceRecord, Document]]) -> int:
        """Chunk, embed and store documents (with their sources); returns the chunks written."""
        prepared = self.prepare(documents)
        self._store.write(prepared)
        return sum(len(p.chunks) for p in prepared)

    def prepare(self, documents: Sequence[tuple[SourceRecord, Document]]) -> list[PreparedDocument]:
        """Chunk and embed documents, all their chunks in one call to the model."""
        chunked = [
            (source, doc, _stamped(self._chunker.chunk(doc, source.id), source, doc))
            for source, doc in documents
        ]
        texts = [embedding_text(c) for _, _, chunks in chunked for c in chunks]
        vectors = self._embedder.embed(texts)
        prepared, offset = [], 0
        for source, doc, chunks in chunked:
            level = held_to(source.access, doc.access)
            prepared.append(
                PreparedDocument(source, doc, chunks, vectors[offset : offset + len(chunks)], level)
            )
            offset += len(chunks)
        return prepared


class _Batch:
    """Collects changed documents until enough chunks wait, then hands them to `write`.

    Only one batch of documents is ever held, whatever the size of the sources.
    """

    def __init__(
        self,
        limit: int,
        write: Callable[[list[tuple[SourceRecord, Document]]], int],
        report: IngestReport,
        written: Callable[[int], None],
    ) -> None:
        self._limit = limit
        self._write = write
        self._report = report
        self._written = written
        self._documents: list[tuple[SourceRecord, Document]] = []
        self._weight = 0

    def add(self, source: SourceRecord, document: Document) -> None:
        self._documents.append((source, document))
        # A rough count of the chunks to come, enough to keep batches near the limit.
        text = sum(len(s.text) for s in document.sections) + sum(
            len(p.text) for p in document.posts
        )
        self._weight += 1 + text // 800
        if self._weight >= self._limit:
            self.flush()

    def flush(self) -> None:
        if not self._documents:
            return
        self._report.chunks += self._write(self._documents)
        self._written(len(self._documents))
        self._documents, self._weight = [], 0


class _Tracker:
    """Counts documents written and bytes read, and tells `progress` after each step.

    Within an export folder, a file counts as read once the documents that come after
    it are from another file (loaders yield a file's or a channel's documents
    together); the whole source counts once its loader is done.
    """

    def __init__(
        self, progress: Progress | None, report: IngestReport, sources: list[Path]
    ) -> None:
        self._progress = progress
        self._report = report
        # Sizes are read only for someone watching: a walk of every folder is not free.
        self._total = sum(sum(file_sizes(p).values()) for p in sources) if progress else 0
        self._documents = 0
        self._read = 0  # bytes of the sources done
        self._files: dict[str, int] = {}  # the current source's files not yet counted
        self._source_bytes = 0
        self._source_read = 0
        self._current = ""

    def start_source(self, path: Path) -> None:
        self._files = file_sizes(path) if self._progress else {}
        self._source_bytes = sum(self._files.values())
        self._source_read, self._current = 0, ""

    def document_read(self, path: str) -> None:
        if path != self._current:
            self._source_read += self._files.pop(self._current, 0)
            self._current = path

    def finish_source(self) -> None:
        self._read += self._source_bytes
        self._files, self._source_bytes, self._source_read = {}, 0, 0
        self._tell()

    def written(self, documents: int) -> None:
        self._documents += documents
        self._tell()

    def _tell(self) -> None:
        if self._progress is not None:
            read = min(self._read + self._source_read, self._total)
            self._progress(IngestProgress(self._documents, self._report.chunks, read, self._total))


def _guarded(found: FoundSource) -> Iterator[Document | LoadFailure]:
    """The loader's items; a loader that breaks ends its source with a failure, not the batch.

    Loaders report what they know goes wrong as failures; anything else they raise is a
    loader bug, and one source's bug must not cost the other sources of the batch.
    """
    try:
        yield from found.loader.load(found.path)
    except Exception as exc:  # the batch boundary: reported, never silent
        reason = f"{type(exc).__name__}: {exc}"[:300]
        yield LoadFailure(str(found.path), f"the {found.loader.kind} loader failed ({reason})")


def _stamped(chunks: list[Chunk], source: SourceRecord, document: Document) -> list[Chunk]:
    """Chunks that carry who may read them, and who uploaded their file (for the citation)."""
    level = held_to(source.access, document.access)
    return [
        dataclasses.replace(c, uploader=source.uploader or c.uploader, access=level) for c in chunks
    ]


def _in_source_group(document: Document, source_id: str) -> Document:
    """A document whose format names a group (a private channel's members), as this source's.

    Two exports may each have a channel of one name with different members: the group is
    named with its source (`group:#core@1a2b3c4d`), so neither lets the other's members in.
    """
    group = group_name(document.access)
    if not group:
        return document
    return dataclasses.replace(document, access=f"{GROUP}{group}@{source_id[:8]}")


def _attributed(document: Document, uploader: str) -> Document:
    """A shared file without an author of its own is credited to whoever uploaded it."""
    if uploader and not document.is_discussion and not document.author:
        return dataclasses.replace(document, author=uploader)
    return document
