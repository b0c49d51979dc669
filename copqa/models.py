"""The data that flows through copqa, from loaders to answers.

Loaders yield `Document`s: a shared file (with `sections`) or one discussion thread
(with `posts`). The pipeline cuts them into `Chunk`s; retrieval returns `ScoredChunk`s;
answerers produce an `Answer` with `Citation`s.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field

from copqa.access import PUBLIC, known

DOCUMENT_KINDS = frozenset({"pdf", "markdown", "text", "html"})
DISCUSSION_KINDS = frozenset(
    {"slack", "discord", "zulip", "mbox", "discourse", "stackexchange", "jsonl"}
)


def iso_day(epoch: int | None) -> str:
    """An epoch timestamp as its UTC day, `2025-03-06`; "" when there is none."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch)) if epoch is not None else ""


def stable_id(*parts: object) -> str:
    """A short deterministic id from a source identity (same input, same id)."""
    joined = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Section:
    """A piece of a shared document: a page of a PDF or a headed part of a Markdown file."""

    text: str
    page: int | None = None
    heading: str = ""


@dataclass(frozen=True)
class Post:
    """One message in a discussion, with who wrote it and where it lives."""

    id: str
    author_id: str
    author_name: str
    text: str
    created_at: int | None = None
    url: str = ""
    reply_to: str | None = None
    is_bot: bool = False
    accepted: bool = False
    score: int | None = None


@dataclass(frozen=True)
class Document:
    """The unit the pipeline hashes, chunks and replaces: one file or one thread.

    `id` is deterministic (see `stable_id`), so re-ingesting the same file or thread
    is an update, never a duplicate.
    """

    id: str
    kind: str
    title: str
    path: str = ""
    url: str = ""
    channel: str = ""
    author: str = ""
    created_at: int | None = None
    sections: tuple[Section, ...] = ()
    posts: tuple[Post, ...] = ()
    # Who may read it, as its format says (`copqa.access`); "" when the format restricts
    # nothing and the source's level applies. A group's members: (author id, name) pairs.
    access: str = ""
    readers: tuple[tuple[str, str], ...] = ()

    @property
    def is_discussion(self) -> bool:
        return bool(self.posts)

    def content_hash(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoadFailure:
    """A file (or a part of an export) that could not be read, and why, in one line."""

    path: str
    error: str


@dataclass(frozen=True)
class PostRef:
    """Who wrote one post of a chunk, when, and where to read it: what a citation names."""

    id: str
    author_name: str
    created_at: int | None = None
    url: str = ""
    opener: bool = False  # the post that opened the thread: the asker, usually
    is_bot: bool = False
    accepted: bool = False


@dataclass(frozen=True)
class Chunk:
    """A passage small enough for the embedding model, with everything a citation needs."""

    id: str
    document_id: str
    source_id: str
    text: str
    kind: str
    title: str
    path: str = ""
    url: str = ""
    page: int | None = None
    author: str = ""
    created_at: int | None = None
    thread_id: str = ""
    channel: str = ""
    heading: str = ""
    post_ids: tuple[str, ...] = ()
    # A reply window's thread question (its opening post, shortened): the keyword index reads
    # it with the replies, so an answer is found by the words of the question it answers.
    context: str = ""
    asker: str = ""  # who opened the thread: in a reply window, their posts are not answers
    posts: tuple[PostRef, ...] = ()  # filled when read back for an answer; not stored twice
    uploader: str = ""  # the member who uploaded the file through the page (or `--uploader`)
    access: str = ""  # who may read it (`copqa.access`); "" (an older copqa's): maintainers

    @property
    def credited(self) -> str:
        """Who a document's words are credited to: its uploader, when a member uploaded it.

        An uploaded file's own `author:` is only what the file claims; anyone can write it.
        """
        return self.uploader or self.author

    @property
    def place(self) -> str:
        """Where the passage lives, for people: `#channel`, or the file's name and page."""
        where = f"#{self.channel.lstrip('#')}" if self.channel else self.path.rsplit("/", 1)[-1]
        return where if self.page is None else f"{where}, p. {self.page}"


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Quote:
    """A sentence of a cited passage that supports the answer, and who wrote it."""

    text: str
    author: str = ""
    post_id: str = ""  # the post it was written in, when the passage is a discussion's


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk
    score: float
    supported: bool = True
    quotes: tuple[Quote, ...] = ()  # the passage's sentences the answer rests on

    def post(self, quote: Quote) -> PostRef | None:
        """The post a quote comes from, when the passage is part of a discussion."""
        return next((p for p in self.chunk.posts if p.id == quote.post_id), None)


@dataclass(frozen=True)
class Expert:
    name: str
    score: float
    why: str


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    answered: bool
    confidence: float
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[ScoredChunk, ...] = ()
    experts: tuple[Expert, ...] = field(default_factory=tuple)
    unsupported: tuple[str, ...] = ()  # sentences dropped for lack of support in their source


@dataclass(frozen=True)
class SearchFilter:
    """Restricts retrieval to some sources; every empty field means "any".

    `levels` are the access levels the asker may read (`Reader.levels`): a guest's by
    default, so a search that forgets who asks shows only what is public; None: every level.
    """

    levels: tuple[str, ...] | None = (PUBLIC,)
    kinds: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    since: int | None = None  # epoch seconds, inclusive
    until: int | None = None
    exclude_documents: tuple[str, ...] = ()  # e.g. the thread an evaluation case came from

    def admits(self, chunk: Chunk) -> bool:
        if self.levels is not None and known(chunk.access) not in self.levels:
            return False
        if chunk.document_id in self.exclude_documents:
            return False
        if self.kinds and chunk.kind not in self.kinds:
            return False
        if self.channels and chunk.channel not in self.channels:
            return False
        if self.authors and chunk.author not in self.authors:
            return False
        created = chunk.created_at
        if self.since is not None and (created is None or created < self.since):
            return False
        return not (self.until is not None and (created is None or created > self.until))

    def narrows(self) -> bool:
        """Whether it keeps anything out besides what the asker may not read."""
        return self != SearchFilter(levels=self.levels)


NO_FILTER = SearchFilter()  # nothing narrowed; what a guest may read
EVERYTHING = SearchFilter(levels=None)  # every level: the maintainers' tools
