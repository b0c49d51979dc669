"""Figures and words both report formats share: how a metric reads, why a case failed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

# (group, metric key, label), in report order. A key ending in "@" stands for every metric
# key starting with it (recall@5, recall@10, ...); "{at}" in its label is the key's cut-off.
METRICS = [
    ("Retrieval", "recall@", "Evidence retrieved in the top {at}"),
    ("Retrieval", "mrr@", "Mean reciprocal rank of the evidence (top {at})"),
    ("Citations", "cited_evidence", "Answers citing gold evidence"),
    ("Citations", "citation_precision", "Citations holding gold evidence"),
    ("Citations", "invalid_citations", "Invalid citation markers (must be 0)"),
    ("Answers", "token_f1", "Token F1 vs the gold answer"),
    ("Answers", "answer_similarity", "Similarity to the gold answer"),
    ("Answers", "groundedness", "Answer sentences supported by what they cite"),
    ("Abstention", "coverage", "Coverage (answerable cases answered correctly)"),
    ("Abstention", "abstention", "Correct abstention (unanswerable cases declined)"),
    ("Abstention", "precision", "Precision (correct / answered)"),
    ("Abstention", "accuracy", "Accuracy (correct / all cases)"),
    ("Who to ask", "experts_hit@", "A gold expert among the top {at} suggested"),
    ("Latency", "latency_p50_ms", "Median"),
    ("Latency", "latency_p95_ms", "95th percentile"),
]
COUNTS = {"cases", "answerable", "unanswerable", "invalid_citations", "judged", "queries", "corpus"}
SCORES = {"token_f1", "answer_similarity", "correctness"}  # scores, not shares of anything
HEADLINE = ["coverage", "precision", "accuracy", "abstention", "recall@", "cited_evidence"]


def fmt(key: str, value: object) -> str:
    """A metric as people read it: counts whole, shares as percentages, latency in ms."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if key.endswith("_ms"):
        return f"{value:,.0f} ms"
    if key == "seconds":
        return f"{value:,.1f} s"
    if key in COUNTS:
        return f"{int(value):,}"
    if key in SCORES:
        return f"{value:.2f}"
    return f"{100 * value:.1f}%"


def grouped_metrics(metrics: Mapping) -> dict[str, list[tuple[str, str]]]:
    """Group -> [(key, label)] for the result's metrics; metrics not in METRICS under "Other"."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for group, key, label in METRICS:
        keys = [k for k in metrics if k.startswith(key)] if key.endswith("@") else [key]
        groups.setdefault(group, []).extend((k, label.format(at=k.split("@")[-1])) for k in keys)
    known = COUNTS | {key for rows in groups.values() for key, _ in rows}
    if other := [(k, k) for k in metrics if k not in known]:
        groups["Other"] = other
    return groups


def resolve(metrics: Mapping, key: str) -> str | None:
    return next((k for k in metrics if k.startswith(key)), None) if key.endswith("@") else key


def outcome(case: Mapping, k: object) -> str:
    """Why a case passed or failed, in a few words."""
    rank = case.get("evidence_rank")
    found = f"evidence retrieved at rank {rank}" if rank else f"evidence not in the top {k}"
    if case.get("answerable"):
        if not case.get("answered"):
            return f"declined an answerable case ({found})"
        if case.get("correct"):
            return "answered with gold evidence"
        return f"answered without gold evidence ({found})"
    if case.get("answered"):
        return "answered an unanswerable case"
    return "declined an unanswerable case" if case.get("correct") else "judged incorrect"


def failures_first(cases: Iterable[Mapping]) -> list[Mapping]:
    return sorted(cases, key=lambda case: case.get("correct") is not False)  # stable


def when(created_at: str) -> str:
    try:
        return datetime.fromisoformat(created_at).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(created_at)


def counts(metrics: Mapping) -> str:
    cases, answerable, unanswerable = (
        fmt("cases", metrics.get(key)) for key in ("cases", "answerable", "unanswerable")
    )
    return f"{cases} cases ({answerable} answerable, {unanswerable} unanswerable)"


def short(text: object, limit: int = 160) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def beir_metrics(retrievers: Mapping[str, Mapping]) -> list[str]:
    """The metric names of a BEIR result, in the order its retrievers give them."""
    return list(dict.fromkeys(k for figures in retrievers.values() for k in figures))


def maintainers_only(result: Mapping) -> str:
    """The warning a report built from passages that are not public carries; "" if all are."""
    levels = result.get("private_levels") or []
    if not levels:
        return ""
    return (
        "Maintainers only: this report quotes passages that are not public "
        f"({', '.join(str(level) for level in levels)}); do not share it further."
    )
