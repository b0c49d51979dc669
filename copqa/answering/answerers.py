"""From retrieved passages to an `Answer` whose every `[n]` maps to a cited passage.

The default `ExtractiveAnswerer` needs no LLM: it quotes the passages' sentences that
best answer the question, so it cannot invent a fact. Every answerer's text goes through
`CitationChecker`, which drops citation numbers that match no passage and checks each
sentence against the passage it cites.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from copqa.answering.confidence import Calibration, Signals, Vocabulary, coverage
from copqa.answering.injection import steers_the_assistant
from copqa.answering.small_talk import is_small_talk
from copqa.embedding import Embedder
from copqa.models import Answer, Chunk, Citation, Quote, ScoredChunk, iso_day
from copqa.sentences import (
    Sentence,
    answer_sentences,
    passage_sentences,
    word_overlap,
)

NOT_COVERED = "The community's knowledge doesn't cover this yet."
OPENER_DISCOUNT = 0.9  # the opening post states the problem; the replies hold the answer
ASKER_DISCOUNT = 0.85  # the asker's later posts mostly say more of the problem
ACCEPTED_BONUS = 1.3  # the answer the asker accepted is the community's answer
SELECTION_WINDOW = 0.3  # sentences this far below the best one still join the answer
# The first passage's best sentence leads the answer from this far below the best one: the
# re-ranker put its window first, and a reply is often worded unlike the question it answers.
LEAD_WINDOW = 2 * SELECTION_WINDOW
# How a post that asks for help reads when it has no question mark.
_ASKS = re.compile(
    r"\b(how (do|can|should) (i|we|you)|is there a way|any(one|body) (know|have|tried)|"
    r"i'?m (trying|having trouble|getting|struggling)|i (get|got|keep getting) (an? )?(error|warning)|"
    r"(doesn'?t|does not|won'?t|can'?t|cannot) (seem to )?(work|find|load|open|install)|"
    r"would like to know|wondering|any (help|advice|ideas|suggestions)|"
    r"(does not|doesn'?t|do not|don'?t) seem to|i (have|had) (a|an|the) (problem|issue))\b",
    re.IGNORECASE,
)
# A `[9]` a member wrote would pose as a citation once their sentence is quoted.
_MARKER = re.compile(r"\s*\[\d+\]")


class Answerer(Protocol):
    def answer(self, question: str, passages: list[ScoredChunk]) -> Answer: ...


@runtime_checkable
class StreamingAnswerer(Answerer, Protocol):
    """An answerer whose text arrives in pieces (an LLM), each shown once it is checked."""

    def answer_streaming(
        self, question: str, passages: list[ScoredChunk]
    ) -> Iterator[str | Answer]:
        """The checked text as it grows, then the `Answer` that `answer` would give."""
        ...


@dataclass(frozen=True)
class _Candidate:
    passage: int  # index in the passages list
    sentence: Sentence
    score: float


class ExtractiveAnswerer:
    """Quotes the most relevant, non-redundant sentences of the top passages, each with its `[n]`."""

    def __init__(
        self,
        embedder: Embedder,
        calibration: Calibration | None = None,
        max_sentences: int = 4,
        per_passage: int = 1,
        max_words: int = 90,
        redundancy: float = 0.85,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self._embedder = embedder
        self.calibration = calibration or Calibration()
        self._vocabulary = vocabulary
        self._max_sentences = max_sentences
        self._per_passage = per_passage
        self._max_words = max_words
        self._redundancy = redundancy

    def answer(self, question: str, passages: list[ScoredChunk]) -> Answer:
        candidates, vectors = self._candidates(question, passages)
        if not candidates:
            return abstention(question, passages, 0.0)
        chosen = self._select(candidates, vectors)
        confidence = self.calibration.confidence(self._signals(question, passages, chosen))
        if confidence < self.calibration.threshold:
            return abstention(question, passages, confidence)
        cited = _fullest_parts(chosen, candidates, passages)
        claims = [Claim(c.passage, c.sentence.text, _quote(c.sentence)) for c in cited]
        return compose(question, passages, claims, confidence)

    def assess(self, question: str, passages: list[ScoredChunk]) -> tuple[Signals, list[int]]:
        """The confidence's signals for these passages, and which of them the answer quotes."""
        candidates, vectors = self._candidates(question, passages)
        if not candidates:
            return Signals(0.0, passages[0].score if passages else 0.0, 0.0), []
        chosen = self._select(candidates, vectors)
        cited = _fullest_parts(chosen, candidates, passages)
        quoted = list(dict.fromkeys(c.passage for c in cited))
        return self._signals(question, passages, chosen), quoted

    def with_threshold(self, threshold: float) -> ExtractiveAnswerer:
        """The same answerer abstaining below another threshold (0: never)."""
        clone = copy.copy(self)
        clone.calibration = dataclasses.replace(self.calibration, threshold=threshold)
        return clone

    def _signals(
        self, question: str, passages: list[ScoredChunk], chosen: list[_Candidate]
    ) -> Signals:
        quoted = dict.fromkeys(c.passage for c in chosen)
        texts = [f"{passages[i].chunk.title}\n{passages[i].chunk.text}" for i in quoted]
        return Signals(
            sentence=max(c.score for c in chosen),
            passage=max(p.score for p in passages),
            coverage=coverage(question, texts, self._vocabulary),
        )

    def _candidates(
        self, question: str, passages: list[ScoredChunk]
    ) -> tuple[list[_Candidate], np.ndarray]:
        sentences = [(i, s) for i, p in enumerate(passages) for s in _answering_sentences(p.chunk)]
        if not sentences:
            return [], np.zeros((0, 0))
        # A sentence is scored with its section's heading, which says what it is about.
        texts = [_in_context(passages[i].chunk.heading, s.text) for i, s in sentences]
        vectors = self._embedder.embed([question, *texts])
        scores = vectors[1:] @ vectors[0]
        candidates = [
            _Candidate(i, s, float(score) * _discount(passages[i].chunk, s))
            for (i, s), score in zip(sentences, scores, strict=True)
        ]
        return candidates, vectors[1:]

    def _select(self, candidates: list[_Candidate], vectors: np.ndarray) -> list[_Candidate]:
        """The best sentences, at most `per_passage` of each passage.

        One sentence of each of several passages beats three of one: the sentence most like
        the question is often the one that restates it, and the answer sits in another post.
        """
        order = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)
        best = candidates[order[0]].score
        # The first passage is retrieval's best guess at the answer: its best sentence leads,
        # unless it is about something else altogether.
        lead = next((i for i in order if candidates[i].passage == 0), None)
        if lead is not None and candidates[lead].score >= best - LEAD_WINDOW:
            order.remove(lead)
            order.insert(0, lead)
        chosen: list[int] = []
        quoted: dict[int, int] = {}
        words = 0
        for i in order:
            candidate = candidates[i]
            if chosen and (
                candidate.score < best - SELECTION_WINDOW or len(chosen) == self._max_sentences
            ):
                break
            if quoted.get(candidate.passage, 0) >= self._per_passage:
                continue
            if any(float(vectors[i] @ vectors[j]) > self._redundancy for j in chosen):
                continue
            length = len(candidate.sentence.text.split())
            if chosen and words + length > self._max_words:
                continue
            chosen.append(i)
            quoted[candidate.passage] = quoted.get(candidate.passage, 0) + 1
            words += length
        # Readable order: by passage rank, then as the sentences stand in their passage.
        picked = [candidates[i] for i in chosen]
        return sorted(picked, key=lambda c: (c.passage, c.sentence.position))


def _fullest_parts(
    chosen: list[_Candidate], candidates: list[_Candidate], passages: list[ScoredChunk]
) -> list[_Candidate]:
    """Each sentence cited from the passage that holds the most of what follows it.

    A long post is cut in overlapping parts: a sentence at the end of one part opens the
    next, where the rest of what its writer said follows it. The reader of the citation
    should see that rest, so the part holding more of it is cited (by rank on a tie). Which
    part is cited does not change the answer's confidence: that stays with the selection.
    """
    following: dict[int, list[int]] = {}  # by passage, read only where there is a choice
    fullest: list[_Candidate] = []
    for picked in chosen:
        same = [
            c
            for c in candidates
            if c.sentence.text == picked.sentence.text
            and c.sentence.post_id == picked.sentence.post_id
        ]
        if len(same) == 1:
            fullest.append(picked)
            continue
        for c in same:
            if c.passage not in following:
                following[c.passage] = _following(passages[c.passage].chunk)
        best = max(same, key=lambda c: (following[c.passage][c.sentence.position], -c.passage))
        taken = {(f.passage, f.sentence.position) for f in fullest}
        fullest.append(best if (best.passage, best.sentence.position) not in taken else picked)
    return sorted(fullest, key=lambda c: (c.passage, c.sentence.position))


def _following(chunk: Chunk) -> list[int]:
    """For each sentence of a passage: how many of its post's sentences come after it there."""
    sentences = passage_sentences(chunk)
    return [
        sum(1 for later in sentences[s.position + 1 :] if later.post_id == s.post_id)
        for s in sentences
    ]


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer, the passage it cites (an index) and the words there behind it."""

    passage: int
    sentence: str
    support: Quote


def compose(
    question: str, passages: list[ScoredChunk], claims: Sequence[Claim], confidence: float
) -> Answer:
    """An answer from its claims: citations numbered by first use, each with its quotes."""
    numbers: dict[int, int] = {}
    quotes: dict[int, list[Quote]] = {}
    lines = []
    for claim in claims:
        n = numbers.setdefault(claim.passage, len(numbers) + 1)
        lines.append(_cite(claim.sentence, n))
        quotes.setdefault(claim.passage, []).append(claim.support)
    citations = tuple(
        Citation(
            n=n,
            chunk=passages[i].chunk,
            score=passages[i].score,
            quotes=tuple(dict.fromkeys(quotes[i])),
        )
        for i, n in numbers.items()
    )
    return Answer(
        question=question,
        answer=" ".join(lines),
        answered=True,
        confidence=confidence,
        citations=citations,
        retrieved=tuple(passages),
    )


def abstention(question: str, passages: list[ScoredChunk], confidence: float) -> Answer:
    """The honest answer: not covered, and where the nearest discussions are."""
    nearest: dict[str, Chunk] = {}
    for passage in passages:  # one line per thread or file, best first
        nearest.setdefault(passage.chunk.document_id, passage.chunk)
    closest = []
    for chunk in list(nearest.values())[:3]:
        where = ", ".join(p for p in (chunk.place, iso_day(chunk.created_at)) if p)
        closest.append(f"- {chunk.title} ({where})" if where else f"- {chunk.title}")
    text = NOT_COVERED
    if closest:
        text += " The closest discussions:\n" + "\n".join(closest)
    return Answer(
        question=question,
        answer=text,
        answered=False,
        confidence=confidence,
        retrieved=tuple(passages),
    )


class CitationChecker:
    """Keeps an answer honest: valid numbers only, each sentence checked against its source."""

    def __init__(self, embedder: Embedder, min_similarity: float = 0.6, min_overlap: float = 0.5):
        self._embedder = embedder
        self._min_similarity = min_similarity
        self._min_overlap = min_overlap

    def check(
        self, question: str, text: str, passages: list[ScoredChunk], confidence: float
    ) -> Answer:
        """Rebuild an answer from raw text with `[n]` markers (1-based passage numbers)."""
        claims: list[Claim] = []
        unsupported: list[str] = []
        for sentence, numbers in answer_sentences(text):
            claim = self.claim(sentence, numbers, passages)
            if claim is None:
                unsupported.append(sentence)
            else:
                claims.append(claim)
        if not claims:
            return abstention(question, passages, confidence)
        answer = compose(question, passages, claims, confidence)
        return dataclasses.replace(answer, unsupported=tuple(unsupported))

    def claim(
        self, sentence: str, numbers: Sequence[int], passages: list[ScoredChunk]
    ) -> Claim | None:
        """The sentence as a claim on the first passage it cites that supports it, or None."""
        for n in numbers:
            if 1 <= n <= len(passages):
                support = self.support(sentence, passages[n - 1])
                if support is not None:
                    return Claim(n - 1, sentence, support)
        return None

    def support(self, claim: str, passage: ScoredChunk) -> Quote | None:
        """The passage's sentence closest to the claim, if the passage supports the claim."""
        sources = passage_sentences(passage.chunk, min_words=1)
        if not sources:
            return None
        vectors = self._embedder.embed([claim, *(s.text for s in sources)])
        similarities = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarities))
        supported = (
            word_overlap(claim, passage.chunk.text) >= self._min_overlap
            or float(similarities[best]) >= self._min_similarity
        )
        return _quote(sources[best]) if supported else None


def _answering_sentences(chunk: Chunk) -> list[Sentence]:
    """The sentences of a passage that may answer: no question, greeting or thanks, no
    orders to an assistant, and nothing of an opening post that asks (the asker's
    statement of the problem).

    An opening post that asks nothing (an announcement, a shared tip) is knowledge itself.
    """
    sentences = passage_sentences(chunk)
    opener = " ".join(s.text for s in sentences if s.opener)
    opener_asks = bool(opener) and (
        chunk.kind == "stackexchange"
        or "?" in opener
        or "?" in chunk.title
        or bool(_ASKS.search(opener))
    )
    return [
        s
        for s in sentences
        if not s.text.endswith("?")  # a question does not answer a question, however alike
        and not (s.opener and opener_asks)
        and not is_small_talk(s.text)
        and not steers_the_assistant(s.text)
    ]


def _discount(chunk: Chunk, sentence: Sentence) -> float:
    """How much a sentence's role in its thread takes from its match to the question."""
    if sentence.opener:
        return OPENER_DISCOUNT
    if chunk.asker and sentence.author == chunk.asker:
        return ASKER_DISCOUNT
    if any(p.accepted and p.author_name == sentence.author for p in chunk.posts):
        return ACCEPTED_BONUS
    return 1.0


def _quote(sentence: Sentence) -> Quote:
    return Quote(sentence.text, sentence.author, sentence.post_id)


def _cite(sentence: str, n: int) -> str:
    """`Set it to 65%.` -> `Set it to 65% [1].`: the marker sits inside the sentence.

    Markers already in the sentence (quoted from a post) are removed: only copqa numbers.
    """
    body = _MARKER.sub("", sentence).strip()
    if body[-1:] in ".!?":
        return f"{body[:-1]} [{n}]{body[-1]}"
    return f"{body} [{n}]"


def _in_context(heading: str, sentence: str) -> str:
    section = heading.rsplit(" / ", 1)[-1]
    return f"{section}: {sentence}" if section else sentence
