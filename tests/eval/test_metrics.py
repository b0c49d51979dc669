"""Retrieval metrics on examples worked out by hand."""

from __future__ import annotations

import math

import pytest

from eval.metrics import mean, mrr_at, ndcg_at, recall_at


def test_ndcg_of_a_perfect_ranking_is_one() -> None:
    assert ndcg_at(["a", "b", "x"], {"a": 1, "b": 1}, 10) == pytest.approx(1.0)


def test_ndcg_with_the_relevant_document_second() -> None:
    # DCG = 1/log2(3); ideal DCG = 1/log2(2) = 1
    assert ndcg_at(["x", "a"], {"a": 1}, 10) == pytest.approx(1 / math.log2(3))


def test_ndcg_counts_only_the_first_k() -> None:
    assert ndcg_at(["x", "y", "a"], {"a": 1}, 2) == 0.0


def test_ndcg_with_graded_relevance() -> None:
    # ranked gains [1, 2]: DCG = 1 + 2/log2(3); ideal [2, 1]: 2 + 1/log2(3)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg_at(["b", "a"], {"a": 2, "b": 1}, 10) == pytest.approx(expected)


def test_recall_is_the_share_of_relevant_found() -> None:
    assert recall_at(["a", "x", "c"], {"a": 1, "b": 1, "c": 1, "d": 1}, 10) == 0.5
    assert recall_at(["a", "x", "c"], {"a": 1, "b": 1, "c": 1, "d": 1}, 2) == 0.25
    assert recall_at(["a"], {}, 10) == 0.0


def test_mrr_is_the_reciprocal_of_the_first_hit() -> None:
    assert mrr_at(["x", "y", "a", "b"], {"a": 1, "b": 1}, 10) == pytest.approx(1 / 3)
    assert mrr_at(["x", "y", "a"], {"a": 1}, 2) == 0.0


def test_mean_of_nothing_is_zero() -> None:
    assert mean([]) == 0.0
    assert mean([0.5, 1.0]) == 0.75
