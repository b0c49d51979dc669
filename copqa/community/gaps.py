"""Knowledge gaps: the questions copqa could not serve, grouped by topic for maintainers.

Questions are grouped with the embedding model (sentence-transformers' community
detection): each group is named by its most central question. A group can be exported
as evaluation cases to complete, in the cases format of `eval/`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sentence_transformers.util import community_detection

from copqa.community.activity import AskedQuestion
from copqa.embedding import Embedder

SAME_TOPIC = 0.6  # cosine similarity to a group's central question to join it


@dataclass(frozen=True)
class Gap:
    """Questions about one topic that the community's knowledge did not serve."""

    topic: str  # the group's most central question
    questions: tuple[AskedQuestion, ...]

    @property
    def count(self) -> int:
        return len(self.questions)

    def reasons(self) -> dict[str, int]:
        return dict(Counter(q.reason for q in self.questions).most_common())


def knowledge_gaps(
    questions: Sequence[AskedQuestion], embedder: Embedder, same_topic: float = SAME_TOPIC
) -> list[Gap]:
    """Group the questions by topic, largest group first."""
    if not questions:
        return []
    vectors = embedder.embed([q.question for q in questions])
    groups = community_detection(vectors, threshold=same_topic, min_community_size=1)
    grouped = {i for group in groups for i in group}
    # Every question belongs somewhere: one the detection left out stands alone.
    groups += [[i] for i in range(len(questions)) if i not in grouped]
    gaps = [Gap(questions[g[0]].question, tuple(questions[i] for i in g)) for g in groups]
    return sorted(gaps, key=lambda gap: -gap.count)


def as_cases(gaps: Sequence[Gap]) -> list[dict[str, object]]:
    """One evaluation case to complete per distinct question (cases format, `answer` empty).

    `answerable` is left null: a maintainer decides, writes the gold answer and evidence.
    """
    cases: list[dict[str, object]] = []
    seen: set[str] = set()
    for gap in gaps:
        for question in gap.questions:
            key = " ".join(question.question.casefold().split())
            if key in seen:
                continue
            seen.add(key)
            cases.append(
                {
                    "id": f"gap-{question.id}",
                    "question": question.question,
                    "answerable": None,
                    "answer": "",
                    "evidence": [],
                    "topic": gap.topic,
                    "why": question.reason,
                }
            )
    return cases
