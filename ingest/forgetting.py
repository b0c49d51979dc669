"""The right to be forgotten: a member's posts leave the store, and stay out of it.

Forgotten authors are recorded in the catalog first, so the pipeline drops their posts
from every later ingestion too; then each thread they wrote in is re-chunked without them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

from copqa.models import Document
from copqa.store import Store

if TYPE_CHECKING:  # the pipeline itself filters with `without_authors`
    from ingest.pipeline import IngestPipeline


@dataclass(frozen=True)
class ForgetReport:
    posts_removed: int
    threads_rechunked: int
    threads_removed: int


def without_authors(document: Document, forgotten: Set[str]) -> Document | None:
    """The thread minus the posts of forgotten authors (by id or name); None if none is left.

    When the opening post goes, so do the title and author taken from it.
    """
    if not forgotten or not document.posts:
        return document
    kept = tuple(
        p for p in document.posts if p.author_id not in forgotten and p.author_name not in forgotten
    )
    if len(kept) == len(document.posts):
        return document
    if not kept:
        return None
    if kept[0] is document.posts[0]:
        return dataclasses.replace(document, posts=kept)
    place = document.channel or document.kind
    return dataclasses.replace(document, posts=kept, author="", title=f"Thread in {place}")


def forget_member(store: Store, pipeline: IngestPipeline, keys: Set[str]) -> ForgetReport:
    """Remove every post written under these author ids or names, and remember them.

    Killed half-way, it leaves the member's remaining threads as they were; running it
    again finishes them (the store's `changing` drops what the killed run left behind).
    """
    with store.changing():
        return _forget(store, pipeline, keys)


def _forget(store: Store, pipeline: IngestPipeline, keys: Set[str]) -> ForgetReport:
    with store.catalog.transaction():
        store.catalog.forget(keys)
    removed_posts = rechunked = removed_threads = 0
    for document_id in store.catalog.documents_by_authors(keys):
        stored = store.catalog.document(document_id)
        if stored is None:
            continue
        source_id, document = stored
        remaining = without_authors(document, keys)
        removed_posts += len(document.posts) - (len(remaining.posts) if remaining else 0)
        if remaining is None:
            store.delete_documents([document_id])
            removed_threads += 1
            continue
        source = store.catalog.source(source_id)
        if source is not None:
            pipeline.write([(source, remaining)])
            rechunked += 1
    return ForgetReport(removed_posts, rechunked, removed_threads)
