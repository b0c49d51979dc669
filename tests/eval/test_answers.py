"""Answer-quality summary on hand-made case results."""

from __future__ import annotations

import pytest

from eval.answers import CaseResult, summarise


def result(answerable: bool, answered: bool, rank: int | None, cited: bool) -> CaseResult:
    return CaseResult(answerable, answered, rank, cited, invalid_citations=0, seconds=0.1)


def test_abstention_figures_as_paperqa_reports_them() -> None:
    results = [
        result(True, True, 1, True),  # correct answer
        result(True, True, 2, False),  # answered, evidence not cited: wrong
        result(True, False, None, False),  # declined an answerable case
        result(False, False, None, False),  # correct abstention
        result(False, True, None, False),  # answered an unanswerable case: wrong
    ]
    summary = summarise(results, 5)
    assert summary["coverage"] == pytest.approx(1 / 3)
    assert summary["correct_abstention"] == pytest.approx(1 / 2)
    assert summary["precision"] == pytest.approx(1 / 3)
    assert summary["accuracy"] == pytest.approx(2 / 5)
    assert summary["evidence_recall@5"] == pytest.approx(2 / 3)
    assert summary["evidence_mrr@5"] == pytest.approx((1 + 1 / 2) / 3)
    assert summary["cited_evidence_when_answered"] == pytest.approx(1 / 2)
