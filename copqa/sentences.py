"""Cutting passages and answers into sentences, and scoring how well one supports another."""

from __future__ import annotations

import re
from dataclasses import dataclass

from copqa.models import Chunk, iso_day

# "Name (2025-03-06): " opens each post inside a discussion chunk.
POST_HEADER = re.compile(r"^(?P<author>[^\n]{1,120}?) \((?P<day>\d{4}-\d{2}-\d{2}|undated)\): ")
_ABBREVIATIONS = (
    "e.g.",
    "i.e.",
    "etc.",
    "vs.",
    "cf.",
    "approx.",
    "Dr.",
    "Mr.",
    "Ms.",
    "Mrs.",
    "St.",
    "No.",
)
_SENTENCE_END = re.compile(
    "".join(f"(?<!\\b{re.escape(a)})" for a in _ABBREVIATIONS)
    + r"(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9@#])"
)
_LIST_MARK = re.compile(r"^([-*+>]|\d+[.)])\s+")
_CITATION = re.compile(r"\s*\[(\d+)\]")
_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "as",
        "if",
        "then",
        "so",
        "not",
        "no",
        "do",
        "does",
        "did",
        "you",
        "your",
        "we",
        "our",
        "they",
        "their",
        "i",
        "he",
        "she",
        "him",
        "her",
        "what",
        "which",
        "who",
        "how",
        "when",
        "where",
        "why",
        "can",
        "could",
        "should",
        "would",
        "will",
        "may",
        "might",
    ]
)


def post_header(author_name: str, created_at: int | None) -> str:
    """What opens a post in a discussion chunk, as `POST_HEADER` reads it back."""
    return f"{header_name(author_name)} ({iso_day(created_at) or 'undated'}): "


def header_name(author_name: str) -> str:
    return author_name or "unknown"


@dataclass(frozen=True)
class Sentence:
    text: str
    position: int  # order within its passage
    author: str = ""
    opener: bool = False  # written in the post that opened the thread (the asker's)
    post_id: str = ""  # the post it was written in, in a discussion


def passage_sentences(chunk: Chunk, min_words: int = 4) -> list[Sentence]:
    """A passage's sentences, each post's header removed but its author and id kept.

    In a thread, a `>` line quotes another member (a quote-reply): it is never one of them.
    """
    found: list[Sentence] = []
    author = chunk.credited
    posts = _PostCursor(chunk)
    opens_thread = bool(chunk.thread_id) and chunk.id.endswith(":0")
    for line in _unwrapped_lines(chunk.text):
        # Post headers are the chunker's, in threads only: in a file they are the file's words.
        header = POST_HEADER.match(line) if chunk.thread_id else None
        if header and posts.begins(header.group("author")):
            author = header.group("author")
            line = line[header.end() :]
        opener = opens_thread and posts.in_first
        if chunk.thread_id and line.lstrip().startswith(">"):
            continue  # in a thread, a `>` line quotes another member: never these words
        line = _LIST_MARK.sub("", _table_row(line.strip()))
        for piece in _SENTENCE_END.split(line):
            piece = piece.strip()
            if len(piece.split()) >= min_words:
                found.append(Sentence(piece, len(found), author, opener, posts.current))
    return found


class _PostCursor:
    """Which of a chunk's posts (`post_ids`, in order) the text being read belongs to.

    The chunker opens each post with a header; a window may start inside a post split in
    parts, whose header sits in the window before. A line a member wrote that merely looks
    like a header is not taken for one when the chunk's posts say who writes next.
    """

    def __init__(self, chunk: Chunk) -> None:
        self._ids = chunk.post_ids
        self._authors = {p.id: header_name(p.author_name) for p in chunk.posts}
        continued = not POST_HEADER.match(chunk.text.lstrip())
        self._index = 0 if continued else -1

    @property
    def in_first(self) -> bool:
        """Whether the text being read is the chunk's first post."""
        return self._index == 0

    @property
    def current(self) -> str:
        return self._ids[self._index] if 0 <= self._index < len(self._ids) else ""

    def begins(self, author: str) -> bool:
        """Whether a header naming `author` opens the next post (and move to it if so)."""
        following = self._index + 1
        if following < len(self._ids):
            known = self._authors.get(self._ids[following])
            if known is not None and known != author:
                return False
        elif self._ids:
            return False  # every post of the chunk has begun already
        self._index = following
        return True


_NEW_UNIT = re.compile(r"^\s*([-*+>|#]|\d+[.)])\s?")  # list item, quote, table row, heading


def _unwrapped_lines(text: str) -> list[str]:
    """Lines as written, with hard-wrapped paragraph lines joined back together.

    A list item, table row, heading, quote or post header starts a line of its own.
    """
    lines: list[str] = []
    joinable = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            joinable = False
            continue
        if joinable and not (_NEW_UNIT.match(line) or POST_HEADER.match(line)):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
        joinable = not POST_HEADER.sub("", line, count=1).startswith(("|", "#", ">"))
    return lines


def _table_row(line: str) -> str:
    """A Markdown table row as a readable line: `| Keyholder | £55 |` -> `Keyholder: £55`."""
    if not (line.startswith("|") and line.endswith("|")):
        return line
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    if all(set(cell) <= set("-: ") for cell in cells):
        return ""  # the separator row
    cells = [cell for cell in cells if cell]
    return f"{cells[0]}: {', '.join(cells[1:])}" if len(cells) > 1 else "".join(cells)


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """An answer's sentences with the citation numbers each one carries."""
    result = []
    for line in text.splitlines():
        for piece in _SENTENCE_END.split(line.strip()):
            numbers = [int(n) for n in _CITATION.findall(piece)]
            plain = _CITATION.sub("", piece).strip()
            if plain:
                result.append((plain, numbers))
    return result


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


def word_overlap(claim: str, source: str) -> float:
    """Share of the claim's content words that the source contains."""
    claim_words = content_words(claim)
    if not claim_words:
        return 0.0
    return len(claim_words & content_words(source)) / len(claim_words)
