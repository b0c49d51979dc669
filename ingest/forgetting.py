"""The right to be forgotten: a member's posts, uploads and mentions leave the store for good.

A request is recorded in the catalog first (`Store.request_forget`): the forgotten keys,
which make the pipeline drop their posts from every later ingestion, and a pending request.
Then the member's uploaded files go (the stored file, its source, chunks and vectors), each
thread they wrote in is re-chunked without them, and every `@mention` of them in other
members' posts becomes "a former member". Only then is the request marked finished: a run
killed half-way is finished by the next change of the store (an ingestion, a deletion, the
page starting), before that change does anything else.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from copqa import home as layout
from copqa.store import Store
from ingest.scrubbing import without_authors

if TYPE_CHECKING:
    from ingest.pipeline import IngestPipeline


@dataclass(frozen=True)
class ForgetReport:
    posts_removed: int = 0
    threads_rechunked: int = 0
    threads_removed: int = 0
    uploads_removed: int = 0
    mentions_replaced: int = 0  # posts of other members that mentioned them

    def __add__(self, other: ForgetReport) -> ForgetReport:
        return ForgetReport(
            *(
                a + b
                for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)
            )
        )


def forget_member(store: Store, pipeline: IngestPipeline, keys: Set[str]) -> ForgetReport:
    """Forget every post, upload and mention under these author ids, names or account names.

    Returns what was removed, with what any earlier request killed half-way had left.
    """
    store.request_forget(sorted(keys))
    with store.changing(finish_pending=False):
        return finish_forgetting(store, pipeline)


def finish_forgetting(store: Store, pipeline: IngestPipeline) -> ForgetReport:
    """Carry out every pending forget request, oldest first; run inside `store.changing`."""
    report = ForgetReport()
    for request in store.pending_forgets():
        report += _uploads(store, request.keys) + _threads(store, pipeline, request.keys)
        store.finish_forget(request)
    return report


def _uploads(store: Store, keys: frozenset[str]) -> ForgetReport:
    """The files they uploaded: stored file first, then the source (a retry finds it still)."""
    uploads = store.home.resolve() / layout.UPLOADS
    removed = 0
    for source in store.sources():
        if source.uploader not in keys:
            continue
        located = Path(source.locator).resolve()
        if uploads in located.parents:
            shutil.rmtree(uploads / located.relative_to(uploads).parts[0], ignore_errors=True)
        store.delete_source(source.id)
        removed += 1
    return ForgetReport(uploads_removed=removed)


def _threads(store: Store, pipeline: IngestPipeline, keys: frozenset[str]) -> ForgetReport:
    removed_posts = rechunked = removed_threads = mentions = 0
    for document_id in store.documents_of(keys):
        stored = store.stored_document(document_id)
        if stored is None:
            continue
        source_id, document = stored
        remaining = without_authors(document, keys)
        if remaining is document:
            continue  # `@keyword` matched text that names no one forgotten
        kept = remaining.posts if remaining else ()
        removed_posts += len(document.posts) - len(kept)
        mentions += sum(1 for p in kept if p not in document.posts)
        if remaining is None:
            store.delete_documents([document_id])
            removed_threads += 1
            continue
        source = store.source(source_id)
        if source is not None:
            pipeline.write([(source, remaining)])
            rechunked += 1
    return ForgetReport(removed_posts, rechunked, removed_threads, 0, mentions)
