"""Builds the ingestion pipeline from settings and an open store."""

from __future__ import annotations

from copqa.embedding import Embedder
from copqa.settings import Settings
from copqa.store import Store
from ingest.chunking import Chunker
from ingest.forgetting import finish_forgetting
from ingest.loaders import all_loaders
from ingest.pipeline import IngestPipeline, RunLog
from ingest.sources import SourceFinder


def build_pipeline(
    settings: Settings, store: Store, embedder: Embedder, runs: RunLog | None = None
) -> IngestPipeline:
    """The pipeline the settings describe; `runs`: where its runs are recorded (None: nowhere)."""
    chunker = Chunker(
        embedder.tokenize,
        settings.ingest.chunk_size,
        settings.ingest.chunk_overlap,
        settings.ingest.max_post_chars,
    )
    pipeline = IngestPipeline(
        store,
        embedder,
        chunker,
        SourceFinder(
            all_loaders(settings.sources, direct_messages=settings.ingest.direct_messages)
        ),
        embed_batch=settings.ingest.embed_batch,
        max_file_bytes=int(settings.ingest.max_file_mb * 2**20),
        # What ingestion makes of the same files depends on these settings too.
        settings_fingerprint=settings.ingest.model_dump_json() + settings.sources.model_dump_json(),
        runs=runs,
    )
    # Every change of the store, through this pipeline or not, first finishes pending forgets.
    store.finish_pending_with(lambda: finish_forgetting(store, pipeline))
    return pipeline
