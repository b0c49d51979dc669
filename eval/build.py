"""Evaluation cases from the community's own solved threads.

A thread whose opening post asks something and that one reply resolved becomes a case:
the question is the thread's, the resolving reply gives the gold answer and evidence, and
the thread itself is listed in `exclude_documents`, so the case is answered from the rest
of the store (`SearchFilter(exclude_documents=...)`) and the test stays honest.

The resolving reply is, in this order: the accepted answer; the first reply by a
maintainer; the reply the asker thanked ("thanks, that worked"). Cases are in the cases
format of `../shared/eval/README.md`, with `resolved_by` and `exclude_documents` added.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from copqa.community import Accounts
from copqa.models import Document, Post, iso_day
from copqa.store import Store

RESOLUTIONS = ("accepted", "maintainer", "thanked")
QUESTION_WORDS = frozenset(
    [
        "how",
        "what",
        "why",
        "when",
        "where",
        "which",
        "who",
        "can",
        "could",
        "should",
        "is",
        "are",
        "does",
        "do",
        "any",
    ]
)
QUESTION_WORDS_MAX = 40
ANSWER_WORDS_MAX = 60
QUOTE_WORDS_MIN = 6
QUOTE_WORDS_MAX = 40

_THANKS = re.compile(
    r"\b(thanks?|thx|ty|that worked|works now|solved|fixed it|perfect)\b", re.IGNORECASE
)
# "Thanks, but it still squeaks" thanks for the effort, not for a solution.
_NOT_SOLVED = re.compile(r"\b(but|still|not work|didn't work|doesn't work)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n")
_MARKUP = (
    (re.compile(r"\[([^\]]+)\]\([^)]+\)"), r"\1"),  # [label](url) -> label
    (re.compile(r"\s*\(https?://[^)\s]+\)"), ""),  # "label (url)", as HTML links are stored
    (re.compile(r"^(?:[-*+>]|\d+[.)])\s+"), ""),  # list and quote marks
    (re.compile(r"`+|\*\*|__|~~"), ""),
)
_FIRST_WORD = re.compile(r"[A-Za-z']+")


@dataclass
class BuildResult:
    """The cases built, and what became of every thread looked at."""

    cases: list[dict[str, object]] = field(default_factory=list)
    threads: int = 0
    resolved_by: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESOLUTIONS, 0))
    skipped: int = 0  # no question, no resolving reply, or no sentence to quote


def cases_from_threads(
    store: Store,
    *,
    kinds: Sequence[str] = (),
    maintainers: Collection[str] = frozenset(),
    limit: int | None = None,
) -> BuildResult:
    """One case per solved thread of the store, in the catalog's stable order.

    Args:
        kinds: Only threads of these kinds (e.g. ``("stackexchange",)``); empty means all.
        maintainers: Names (any case) whose reply resolves a thread when none was accepted.
        limit: At most this many cases; threads after the last case are not looked at.
    """
    result = BuildResult()
    staff = {name.casefold() for name in maintainers}
    for document_id in store.discussion_ids(kinds):
        if limit is not None and len(result.cases) >= limit:
            break
        document = store.discussion(document_id)
        if document is None:  # removed since the ids were read
            continue
        result.threads += 1
        case = _case(document, staff)
        if case is None:
            result.skipped += 1
            continue
        result.resolved_by[str(case["resolved_by"])] += 1
        result.cases.append(case)
    return result


def load_maintainers(accounts: Accounts) -> frozenset[str]:
    """Names of the accounts whose role is maintainer."""
    return frozenset(account.name for account in accounts.list() if account.is_maintainer)


def _case(document: Document, staff: set[str]) -> dict[str, object] | None:
    opener = document.posts[0]
    if not (_asks(document.title) or _asks(opener.text)):
        return None
    resolved = _resolver(document.posts, staff)
    if resolved is None:
        return None
    how, reply = resolved
    sentences = _sentences(reply.text)
    quotable = [s for s in sentences if len(s.split()) >= QUOTE_WORDS_MIN][:3]
    if not quotable:
        return None
    quote = " ".join(max(quotable, key=len).split()[:QUOTE_WORDS_MAX])
    title = document.title.strip()
    place = document.channel or document.kind
    day = iso_day(reply.created_at) or "undated"
    return {
        "id": f"{document.kind}-{document.id[:12]}",
        "question": _question(title, opener.text),
        "answerable": True,
        "answer": _fit([_plain(s) for s in sentences], ANSWER_WORDS_MAX),
        "evidence": [
            {"quote": quote, "locator": f"{place} / {title} / {day} / {reply.author_name}"}
        ],
        "experts": [reply.author_name],
        "type": "thread",
        "source": document.kind,
        "resolved_by": how,
        "exclude_documents": [document.id],
    }


def _asks(text: str) -> bool:
    """Whether a title or post reads as a question: a "?" or a question word first."""
    first = _FIRST_WORD.search(text)
    return "?" in text or (first is not None and first.group().casefold() in QUESTION_WORDS)


def _resolver(posts: Sequence[Post], staff: set[str]) -> tuple[str, Post] | None:
    """The reply that resolved the thread, and how it is known (one of `RESOLUTIONS`)."""
    accepted = next((p for p in posts if p.accepted), None)
    if accepted is not None:
        return "accepted", accepted
    asker = _who(posts[0])
    others = [(i, p) for i, p in enumerate(posts) if i and not p.is_bot and _who(p) != asker]
    by_staff = next((p for _, p in others if p.author_name.casefold() in staff), None)
    if by_staff is not None:
        return "maintainer", by_staff
    for n, post in enumerate(posts[1:], start=1):
        if _who(post) != asker or not _THANKS.search(post.text) or _NOT_SOLVED.search(post.text):
            continue
        earlier = [p for i, p in others if i < n]
        # A thanks that replies to one post (a comment under an answer) thanks that post.
        target = next((p for p in earlier if p.id == post.reply_to), None)
        if earlier:
            return "thanked", target or earlier[-1]
    return None


def _who(post: Post) -> str:
    return (post.author_id or post.author_name).casefold()


def _sentences(text: str) -> list[str]:
    """The text's sentences, verbatim but for whitespace, which is collapsed."""
    pieces = (s for p in _PARAGRAPH.split(text) for s in _SENTENCE_END.split(p.strip()))
    return [" ".join(s.split()) for s in pieces if s.strip()]


def _question(title: str, text: str) -> str:
    """The thread's question: its title if that ends with "?", else the opener's question.

    That is the opener's first sentence that ends with "?", after as much of what leads up
    to it as fits; without one, the title if it asks, else the opener's first sentences.
    """
    if title.endswith("?"):
        return title
    sentences = [_plain(s) for s in _sentences(text)]
    asking = next((i for i, s in enumerate(sentences) if s.endswith("?")), None)
    if asking is None:
        return title if _asks(title) else _fit(sentences, QUESTION_WORDS_MAX)
    start = asking
    while start and _words(sentences[start - 1 : asking + 1]) <= QUESTION_WORDS_MAX:
        start -= 1
    return _fit(sentences[start : asking + 1], QUESTION_WORDS_MAX)


def _fit(sentences: Sequence[str], most: int) -> str:
    """The first sentences, as many as fit in `most` words (the first one cut to fit)."""
    end = 1
    while end < len(sentences) and _words(sentences[: end + 1]) <= most:
        end += 1
    return " ".join(" ".join(sentences[:end]).split()[:most])


def _words(sentences: Sequence[str]) -> int:
    return sum(len(s.split()) for s in sentences)


def _plain(text: str) -> str:
    """A sentence without Markdown marks: links as their labels, no emphasis or list marks."""
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())
