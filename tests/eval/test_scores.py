"""Every answer metric on hand-computed examples."""

from __future__ import annotations

import pytest

from eval.gate import breaches, deltas, metric, parse_limits
from eval.scores import (
    Outcome,
    curve,
    evidence_rank,
    expert_hit,
    normalise_answer,
    percentile,
    summarise,
    token_f1,
)


def outcome(answerable: bool, answered: bool, rank: int | None, cited: bool, **more) -> Outcome:
    fields = {
        "type": "", "citations": 1 if answered else 0, "citations_holding_evidence": int(cited),
        "invalid_citations": 0, "token_f1": None, "similarity": None,
        "grounded": 1.0 if answered else None, "expert_hit": None,
        "probe_confidence": 0.5, "probe_cited": cited, "seconds": 0.1,
    }  # fmt: skip
    fields.update(more)
    return Outcome(answerable, answered, evidence_rank=rank, evidence_cited=cited, **fields)


FIVE = [
    outcome(True, True, 1, True),  # correct answer
    outcome(True, True, 2, False),  # answered, evidence not cited: wrong
    outcome(True, False, None, False),  # declined an answerable case
    outcome(False, False, None, False),  # correct abstention
    outcome(False, True, None, False),  # answered an unanswerable case: wrong
]


def test_abstention_figures_as_paperqa_reports_them() -> None:
    metrics = summarise(FIVE, 5)
    assert metrics["coverage"] == pytest.approx(1 / 3)
    assert metrics["abstention"] == pytest.approx(1 / 2)
    assert metrics["precision"] == pytest.approx(1 / 3)
    assert metrics["accuracy"] == pytest.approx(2 / 5)
    assert metrics["recall@5"] == pytest.approx(2 / 3)
    assert metrics["mrr@5"] == pytest.approx((1 + 1 / 2) / 3)
    assert metrics["cited_evidence"] == pytest.approx(1 / 2)
    assert (metrics["answerable"], metrics["unanswerable"], metrics["cases"]) == (3, 2, 5)


def test_citation_precision_counts_citations_not_cases() -> None:
    results = [
        outcome(True, True, 1, True, citations=3, citations_holding_evidence=1),
        outcome(True, True, 1, True, citations=1, citations_holding_evidence=1),
    ]
    assert summarise(results, 5)["citation_precision"] == pytest.approx(2 / 4)


def test_metrics_that_do_not_apply_are_none() -> None:
    metrics = summarise([outcome(False, False, None, False)], 5)
    assert metrics["coverage"] is None and metrics["recall@5"] is None
    assert metrics["experts_hit@3"] is None and metrics["token_f1"] is None
    assert metrics["abstention"] == 1.0


def test_token_f1_as_squad_computes_it() -> None:
    # "the" and the citation marker go; 2 common tokens of 3 predicted and 4 gold.
    assert normalise_answer("The Kiln, fired [1].") == ["kiln", "fired"]
    assert token_f1("fired on Thursdays [2]", "the kiln is fired Thursdays") == pytest.approx(
        2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4)
    )
    assert token_f1("nothing alike", "kiln") == 0.0
    assert token_f1("Kiln.", "the kiln") == 1.0


def test_evidence_rank_folds_space_and_case() -> None:
    passages = ["nothing here", "The kiln is\n  FIRED on Thursdays."]
    assert evidence_rank(passages, ["kiln is fired on thursdays"]) == 2
    assert evidence_rank(passages, ["absent quote entirely"]) is None


def test_experts_hit_at_three() -> None:
    assert expert_hit(["Ana", "Bo", "Cy", "Tobias"], ["tobias"]) is False
    assert expert_hit(["Ana", "tobias"], ["Tobias"]) is True
    assert expert_hit(["Ana"], []) is None
    metrics = summarise([outcome(True, True, 1, True, expert_hit=True),
                         outcome(True, True, 1, True, expert_hit=False)], 5)  # fmt: skip
    assert metrics["experts_hit@3"] == 0.5


def test_groundedness_and_similarity_are_means_over_answered_cases() -> None:
    metrics = summarise([
        outcome(True, True, 1, True, grounded=1.0, token_f1=0.5, similarity=0.8),
        outcome(True, True, 1, True, grounded=0.5, token_f1=0.0, similarity=0.4),
        outcome(True, False, None, False),
    ], 5)  # fmt: skip
    assert metrics["groundedness"] == 0.75
    assert metrics["token_f1"] == 0.25 and metrics["answer_similarity"] == pytest.approx(0.6)


def test_percentiles_interpolate() -> None:
    assert percentile([100.0, 200.0, 300.0, 400.0, 500.0], 50) == 300.0
    assert percentile([100.0, 200.0], 95) == pytest.approx(195.0)
    assert percentile([], 95) is None


def test_the_curve_over_the_threshold() -> None:
    cases = [
        outcome(True, True, 1, True, probe_confidence=0.9),
        outcome(True, True, 1, False, probe_confidence=0.6, probe_cited=False),
        outcome(False, False, None, False, probe_confidence=0.3),
    ]
    points = {p["threshold"]: p for p in curve(cases)}
    assert len(points) == 21
    assert points[0.0] == {"threshold": 0.0, "coverage": 0.5, "precision": 1 / 3, "accuracy": 1 / 3}
    assert points[0.5] == {"threshold": 0.5, "coverage": 0.5, "precision": 0.5, "accuracy": 2 / 3}
    assert points[1.0]["precision"] is None and points[1.0]["accuracy"] == 1 / 3


def _report(ranks: list[int | None], **metrics) -> dict:
    detail = [{"answerable": True, "evidence_rank": r} for r in ranks]
    return {"metrics": {"coverage": 0.8, "abstention": 0.5, "latency_p95_ms": 900.0, **metrics},
            "cases_detail": detail}  # fmt: skip


def test_the_gate_reads_limits_and_reports_breaches() -> None:
    assert parse_limits("recall@5=0.8, abstention=0.6") == {"recall@5": 0.8, "abstention": 0.6}
    report = _report([1, 4, None, 6])
    assert metric(report, "recall@5") == 0.5 and metric(report, "mrr@5") == (1 + 1 / 4) / 4
    assert metric(report, "recall@10") == 0.75
    found = breaches(report, {"recall@5": 0.8, "coverage": 0.7}, {"latency_p95_ms": 500})
    assert [(b.metric, b.under) for b in found] == [("recall@5", True), ("latency_p95_ms", False)]
    assert breaches(report, {"recall@5": 0.5}) == []


def test_the_gate_refuses_unknown_metrics_and_bad_limits() -> None:
    from copqa.errors import ConfigError

    with pytest.raises(ConfigError, match="no metric 'recal@5'"):
        metric(_report([1]), "recal@5")
    with pytest.raises(ConfigError, match="METRIC=NUMBER"):
        parse_limits("recall@5")


def test_compare_gives_deltas() -> None:
    rows = deltas({"metrics": {"coverage": 0.5, "gone": 1.0}}, {"metrics": {"coverage": 0.75}})
    assert rows == [("coverage", 0.5, 0.75, 0.25), ("gone", 1.0, None, None)]
