"""A chunk as flat metadata and back: what the vector store and the catalog keep beside its text.

Chroma takes only scalars, so tuples are joined (`post_ids`) and absent values left out;
the catalog stores the same dictionary as JSON. `posts` is not kept here: the catalog's
posts table holds them, and the store attaches them when a chunk is read for an answer.
"""

from __future__ import annotations

from copqa.models import Chunk


def flat_metadata(chunk: Chunk) -> dict[str, str | int]:
    """A chunk's fields as flat scalars, as Chroma requires (absent values left out)."""
    values: dict[str, str | int | None] = {
        "document_id": chunk.document_id,
        "source_id": chunk.source_id,
        "kind": chunk.kind,
        "title": chunk.title,
        "path": chunk.path,
        "url": chunk.url,
        "page": chunk.page,
        "author": chunk.author,
        "created_at": chunk.created_at,
        "thread_id": chunk.thread_id,
        "channel": chunk.channel,
        "heading": chunk.heading,
        "post_ids": ",".join(chunk.post_ids),
        "context": chunk.context,
        "asker": chunk.asker,
        "uploader": chunk.uploader,
        "access": chunk.access,
    }
    return {k: v for k, v in values.items() if v not in (None, "")}


def chunk_from_metadata(chunk_id: str, text: str, metadata: dict[str, str | int]) -> Chunk:
    """Rebuild a Chunk from its text and the flat metadata stored beside it."""

    def text_of(key: str) -> str:
        return str(metadata.get(key, ""))

    def int_of(key: str) -> int | None:
        value = metadata.get(key)
        return int(value) if value is not None else None

    post_ids = text_of("post_ids")
    return Chunk(
        id=chunk_id,
        document_id=text_of("document_id"),
        source_id=text_of("source_id"),
        text=text,
        kind=text_of("kind"),
        title=text_of("title"),
        path=text_of("path"),
        url=text_of("url"),
        page=int_of("page"),
        author=text_of("author"),
        created_at=int_of("created_at"),
        thread_id=text_of("thread_id"),
        channel=text_of("channel"),
        heading=text_of("heading"),
        post_ids=tuple(post_ids.split(",")) if post_ids else (),
        context=text_of("context"),
        asker=text_of("asker"),
        uploader=text_of("uploader"),
        access=text_of("access"),
    )
