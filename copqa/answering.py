"""Answerers: from retrieved passages to an `Answer` whose citations map to passages."""

from __future__ import annotations

from typing import Protocol

from copqa.models import Answer, Citation, ScoredChunk

NOT_COVERED = "The community's knowledge doesn't cover this yet."


class Answerer(Protocol):
    def answer(self, question: str, passages: list[ScoredChunk]) -> Answer: ...


class PassageAnswerer:
    """Answers with the best passage itself, and cites every retrieved passage in rank order."""

    def answer(self, question: str, passages: list[ScoredChunk]) -> Answer:
        if not passages:
            return Answer(question=question, answer=NOT_COVERED, answered=False, confidence=0.0)
        citations = tuple(
            Citation(n=n, chunk=p.chunk, score=p.score) for n, p in enumerate(passages, start=1)
        )
        return Answer(
            question=question,
            answer=f"{passages[0].chunk.text} [1]",
            answered=True,
            confidence=passages[0].score,
            citations=citations,
            retrieved=tuple(passages),
        )
