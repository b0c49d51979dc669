"""Scores of one answer against its case, and their aggregation into a run's metrics.

Retrieval: the rank of the first passage holding gold evidence (`eval.evidence.holds`).
Answers: SQuAD's token F1 and the embedding similarity to the gold answer; groundedness,
the share of answer sentences supported by the passage they cite. Abstention as PaperQA2
reports LitQA2: an answered case is correct when its citations hold gold evidence, a
declined one when the case is unanswerable.
"""

from __future__ import annotations

import re
import statistics
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from eval.evidence import holds

_MARKER = re.compile(r"\s*\[\d+\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
CURVE_STEPS = 20  # the coverage-precision curve: thresholds 0, 0.05, ..., 1


@dataclass(frozen=True)
class Outcome:
    """What one case came to; the runner fills it, `summarise` aggregates it."""

    answerable: bool
    answered: bool
    type: str
    evidence_rank: int | None  # 1-based, among the retrieved passages
    evidence_cited: bool
    citations: int
    citations_holding_evidence: int
    invalid_citations: int
    token_f1: float | None  # None when not answered or no gold answer
    similarity: float | None
    grounded: float | None  # None when not answered
    expert_hit: bool | None  # None when the case names no experts
    probe_confidence: float  # the extractive confidence, whatever the threshold
    probe_cited: bool  # whether the answer at threshold 0 would cite gold evidence
    seconds: float

    @property
    def correct(self) -> bool:
        if self.answered:
            return self.answerable and self.evidence_cited
        return not self.answerable


def normalise_answer(text: str) -> list[str]:
    """SQuAD's normalisation: citation markers, case, punctuation and articles removed."""
    text = _MARKER.sub("", text).lower().translate(_PUNCTUATION)
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of token precision and recall (0 when either side is empty)."""
    predicted, wanted = normalise_answer(prediction), normalise_answer(gold)
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def evidence_rank(passages: Sequence[str], quotes: Sequence[str]) -> int | None:
    """1-based rank of the first passage holding any quote; None when none does."""
    for rank, text in enumerate(passages, start=1):
        if any(holds(text, quote) for quote in quotes):
            return rank
    return None


def expert_hit(suggested: Sequence[str], gold: Sequence[str], top: int = 3) -> bool | None:
    """Whether one of the gold experts is among the first `top` suggested (None: no gold)."""
    if not gold:
        return None
    wanted = {name.casefold() for name in gold}
    return any(name.casefold() in wanted for name in suggested[:top])


def share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def summarise(outcomes: Sequence[Outcome], k: int) -> dict[str, float | int | None]:
    """A run's metrics; shares are None when nothing they measure occurred."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    answered = [o for o in outcomes if o.answered]
    answered_answerable = [o for o in answerable if o.answered]
    correct_answers = [o for o in answered if o.correct]
    latencies = [o.seconds * 1000 for o in outcomes]

    def mean_of(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return statistics.fmean(present) if present else None

    hits = [o.expert_hit for o in outcomes if o.expert_hit is not None]
    return {
        "cases": len(outcomes),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        f"recall@{k}": share(sum(o.evidence_rank is not None for o in answerable), len(answerable)),
        f"mrr@{k}": share(
            sum(1 / o.evidence_rank for o in answerable if o.evidence_rank), len(answerable)
        ),
        "cited_evidence": share(
            sum(o.evidence_cited for o in answered_answerable), len(answered_answerable)
        ),
        "citation_precision": share(
            sum(o.citations_holding_evidence for o in answered_answerable),
            sum(o.citations for o in answered_answerable),
        ),
        "invalid_citations": sum(o.invalid_citations for o in outcomes),
        "token_f1": mean_of([o.token_f1 for o in answered_answerable]),
        "answer_similarity": mean_of([o.similarity for o in answered_answerable]),
        "groundedness": mean_of([o.grounded for o in answered]),
        "coverage": share(len(correct_answers), len(answerable)),
        "abstention": share(sum(not o.answered for o in unanswerable), len(unanswerable)),
        "precision": share(len(correct_answers), len(answered)),
        "accuracy": share(sum(o.correct for o in outcomes), len(outcomes)),
        "experts_hit@3": share(sum(hits), len(hits)),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile, interpolated between the closest ranks (None for no values)."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def curve(outcomes: Sequence[Outcome]) -> list[dict[str, float | None]]:
    """Coverage, precision and accuracy had copqa abstained below each threshold."""
    points = []
    answerable = sum(o.answerable for o in outcomes)
    for step in range(CURVE_STEPS + 1):
        threshold = step / CURVE_STEPS
        answered = [o for o in outcomes if o.probe_confidence >= threshold]
        correct = [o for o in answered if o.answerable and o.probe_cited]
        declined_right = sum(
            1 for o in outcomes if o.probe_confidence < threshold and not o.answerable
        )
        points.append(
            {
                "threshold": round(threshold, 2),
                "coverage": share(len(correct), answerable),
                "precision": share(len(correct), len(answered)),
                "accuracy": share(len(correct) + declined_right, len(outcomes)),
            }
        )
    return points


def by_type(outcomes: Sequence[Outcome], k: int) -> dict[str, dict[str, float | int | None]]:
    """A few headline metrics per case type (empty when the cases have no types)."""
    types = sorted({o.type for o in outcomes if o.type})
    table = {}
    for kind in types:
        metrics = summarise([o for o in outcomes if o.type == kind], k)
        table[kind] = {
            key: metrics[key] for key in ("cases", f"recall@{k}", "coverage", "accuracy")
        }
    return table
