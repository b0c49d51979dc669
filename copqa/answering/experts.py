"""Who to ask: the members who wrote the evidence for a question.

Each post in the retrieved passages earns its author the passage's relevance, more for an
accepted answer and for the words the answer quotes, less when written by the thread's
asker, less further down the ranking, and less as it ages. Bots are never experts.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from copqa.models import Expert, ScoredChunk

HALF_LIFE_DAYS = 730.0  # two-year-old advice counts half
ACCEPTED_BONUS = 1.5
OPENER_WEIGHT = 0.3
DOCUMENT_AUTHOR_WEIGHT = 0.5
QUOTED_BONUS = 2.0  # wrote the sentences the answer rests on
RANK_DECAY = 0.5  # the passage at rank r counts 1 / (1 + RANK_DECAY * r)


@dataclass
class _Evidence:
    score: float = 0.0
    threads: set[str] = field(default_factory=set)
    places: Counter[str] = field(default_factory=Counter)
    last: int = 0


class ExpertFinder:
    def __init__(self, top: int = 3, now: float | None = None) -> None:
        self._top = top
        self._now = now

    def find(self, passages: list[ScoredChunk], quoted: Collection[str] = ()) -> tuple[Expert, ...]:
        """The members to ask; `quoted` names the authors of the words the answer quotes."""
        evidence: dict[str, _Evidence] = {}
        now = self._now if self._now is not None else time.time()
        for rank, passage in enumerate(passages):
            relevance = max(passage.score, 0.0) / (1 + RANK_DECAY * rank)
            chunk = passage.chunk
            place = chunk.channel or chunk.title
            # An upload's front matter names whoever the uploader typed: the uploader is credited.
            if not chunk.posts and chunk.credited:
                self._credit(evidence, chunk.credited, relevance * DOCUMENT_AUTHOR_WEIGHT,
                             chunk.document_id, place, chunk.created_at)  # fmt: skip
            # The asker's later posts ("thanks, that worked!") are still the asker's.
            asker = chunk.asker or next((p.author_name for p in chunk.posts if p.opener), None)
            for post in chunk.posts:
                if post.is_bot or not post.author_name:
                    continue
                weight = relevance * _recency(post.created_at, now)
                if post.accepted:
                    weight *= ACCEPTED_BONUS
                if post.author_name == asker:
                    weight *= OPENER_WEIGHT
                elif post.author_name in quoted:
                    weight *= QUOTED_BONUS
                self._credit(
                    evidence, post.author_name, weight, chunk.document_id, place, post.created_at
                )
        ranked = sorted(evidence.items(), key=lambda item: -item[1].score)[: self._top]
        return tuple(Expert(name, round(e.score, 4), _why(e)) for name, e in ranked if e.score > 0)

    @staticmethod
    def _credit(
        evidence: dict[str, _Evidence],
        name: str,
        weight: float,
        thread: str,
        place: str,
        created_at: int | None,
    ) -> None:
        entry = evidence.setdefault(name, _Evidence())
        entry.score += weight
        entry.threads.add(thread)
        entry.places[place] += 1
        entry.last = max(entry.last, created_at or 0)


def _recency(created_at: int | None, now: float) -> float:
    if not created_at:
        return 0.5
    age_days = max(now - created_at, 0) / 86400
    return math.pow(0.5, age_days / HALF_LIFE_DAYS)


def _why(evidence: _Evidence) -> str:
    count = len(evidence.threads)
    place = evidence.places.most_common(1)[0][0]
    what = f"wrote in {count} related {'thread' if count == 1 else 'threads'}"
    where = f" in {place}" if place.startswith("#") else f", e.g. {place!r}"
    when = (
        f", last in {time.strftime('%Y-%m', time.gmtime(evidence.last))}" if evidence.last else ""
    )
    return what + where + when
