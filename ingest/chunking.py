"""Cutting documents into chunks the embedding model can read whole.

Sizes are counted in the model's own word pieces, so a chunk of `chunk_size` pieces,
with its title before it, stays within the model's 256-piece window. Shared documents
are split by llama-index's `SentenceSplitter` inside each page or headed section;
discussions are cut into windows of consecutive posts of one thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llama_index.core.node_parser import SentenceSplitter

from copqa.models import Chunk, Document, Post
from copqa.sentences import post_header

MIN_POST_WORDS = 3  # "+1", "thanks!" and the like carry no knowledge of their own
# How much of a thread's opening post a reply window carries as its question, for the
# keyword index: an answer is then found by the words of the question it answers.
CONTEXT_CHARS = 240
# A post of a thread longer than a chunk is cut in parts that share this share of a chunk:
# a sentence of up to 60 pieces (a path or a link is many) opens the next part too, so a
# quote of the post's words is whole in one part or the other. A thread of one post (a
# JSONL row of a corpus) is cut as a file's section is, with the settings' overlap: cut
# with this one, ClapNQ's long Wikipedia passages declined 3 fewer unanswerable questions.
POST_PART_OVERLAP = 0.3


@dataclass(frozen=True)
class _PostPiece:
    post: Post
    text: str
    tokens: int


class Chunker:
    """Turns a document into chunks with ids `{document_id}:{n}`."""

    def __init__(
        self,
        tokenize: Callable[[str], list[str]],
        chunk_size: int,
        chunk_overlap: int,
        max_post_chars: int = 8000,
    ) -> None:
        self._tokenize = tokenize
        self._max_post_chars = max_post_chars
        self._chunk_size = chunk_size
        self._chunk_overlap = chunk_overlap
        self._splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            tokenizer=tokenize,
            paragraph_separator="\n\n",
        )
        self._post_splitter = SentenceSplitter(
            chunk_size=chunk_size,
            chunk_overlap=max(chunk_overlap, int(chunk_size * POST_PART_OVERLAP)),
            tokenizer=tokenize,
            paragraph_separator="\n\n",
        )

    def chunk(self, document: Document, source_id: str) -> list[Chunk]:
        if document.is_discussion:
            return self._chunk_thread(document, source_id)
        return self._chunk_sections(document, source_id)

    def _chunk_sections(self, document: Document, source_id: str) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section in document.sections:
            for piece in self._splitter.split_text(section.text):
                if len(piece.split()) < MIN_POST_WORDS:
                    continue
                chunks.append(
                    Chunk(
                        id=f"{document.id}:{len(chunks)}",
                        document_id=document.id,
                        source_id=source_id,
                        text=piece,
                        kind=document.kind,
                        title=document.title,
                        path=document.path,
                        url=document.url,
                        page=section.page,
                        author=document.author,
                        created_at=document.created_at,
                        heading=section.heading,
                    )
                )
        return chunks

    def _chunk_thread(self, document: Document, source_id: str) -> list[Chunk]:
        windows: list[list[_PostPiece]] = []
        window: list[_PostPiece] = []
        used = 0
        for piece in self._post_pieces(document.posts):
            if window and used + piece.tokens > self._chunk_size:
                windows.append(window)
                # Carry the last post over when it is short, so a reply keeps its context.
                window = [window[-1]] if window[-1].tokens <= self._chunk_overlap * 2 else []
                used = sum(p.tokens for p in window)
            window.append(piece)
            used += piece.tokens
        if window:
            windows.append(window)
        opener, question = document.posts[0].id, thread_question(document)
        return [
            self._thread_chunk(
                document, source_id, n, w, "" if w[0].post.id == opener else question
            )
            for n, w in enumerate(windows)
        ]

    def _post_pieces(self, posts: tuple[Post, ...]) -> list[_PostPiece]:
        pieces: list[_PostPiece] = []
        # A thread of one post (a JSONL row, an announcement) reads like a file's section.
        splitter = self._post_splitter if len(posts) > 1 else self._splitter
        for post in posts:
            if len(post.text.split()) < MIN_POST_WORDS:
                continue
            header = post_header(post.author_name, post.created_at)
            # Beyond this a post is a pasted log or dump: its opening says what it is about,
            # the rest would bury the thread under hundreds of near-identical chunks.
            body = post.text[: self._max_post_chars]
            text = header + (body if body == post.text else body + " …")
            tokens = len(self._tokenize(text))
            if tokens <= self._chunk_size:
                pieces.append(_PostPiece(post, text, tokens))
                continue
            for part in splitter.split_text(text):
                pieces.append(_PostPiece(post, part, len(self._tokenize(part))))
        return pieces

    @staticmethod
    def _thread_chunk(
        document: Document, source_id: str, n: int, window: list[_PostPiece], context: str
    ) -> Chunk:
        first = window[0].post
        post_ids = tuple(dict.fromkeys(p.post.id for p in window))
        return Chunk(
            id=f"{document.id}:{n}",
            document_id=document.id,
            source_id=source_id,
            text="\n".join(p.text for p in window),
            kind=document.kind,
            title=document.title,
            path=document.path,
            url=first.url or document.url,
            author=first.author_name,
            created_at=first.created_at,
            thread_id=document.id,
            channel=document.channel,
            post_ids=post_ids,
            context=context,
            asker=document.posts[0].author_name,
        )


def thread_question(document: Document) -> str:
    """The thread's opening post, shortened at a word: the question its replies answer."""
    text = " ".join(document.posts[0].text.split())
    if len(text) <= CONTEXT_CHARS:
        return text
    return text[:CONTEXT_CHARS].rsplit(" ", 1)[0] + " …"
