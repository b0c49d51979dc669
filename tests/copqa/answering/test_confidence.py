"""Confidence signals: rare words of the question covered by the quoted passages; calibrations saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copqa.answering.confidence import Calibration, Signals, coverage
from copqa.errors import ConfigError

STOPWORDS = frozenset(["how", "for", "the", "and", "you", "with", "after"])


class Words:
    """A vocabulary over a tiny corpus: rarity from how many of its texts hold a word."""

    def __init__(self, corpus: list[str]) -> None:
        self._corpus = [self.terms(t) for t in corpus]

    def terms(self, text: str) -> set[str]:
        words = {w.strip("?.,!").lower() for w in text.split()}
        return {w for w in words if len(w) > 2 and w not in STOPWORDS}

    def rarity(self, text: str) -> dict[str, float]:
        import math

        n = len(self._corpus)
        return {
            t: math.log((n + 1) / (sum(t in c for c in self._corpus) + 0.5))
            for t in self.terms(text)
        }


CORPUS = [
    "how do you request memory for dask workers on casper",
    "dask workers on casper need memory and cores set",
    "casper jobs and dask clusters",
    "the jupyterhub server stops after idle hours",
]


def test_a_passage_missing_the_rare_word_covers_little() -> None:
    words = Words(CORPUS)
    question = "how do I request a gpu for dask workers on casper?"
    about_memory = "set memory for dask workers on casper with the PBSCluster memory argument"
    about_gpus = "add ngpus=1 and gpu_type to request a gpu for dask workers on casper"
    assert coverage(question, [about_gpus], words) > 0.95
    assert coverage(question, [about_memory], words) < 0.7


def test_a_typo_still_covers_its_word() -> None:
    words = Words([*CORPUS, "conda solving environment takes hours"])
    assert coverage("conda enviroment solving", ["conda environment solving is slow"], words) == 1.0


def test_without_a_vocabulary_coverage_does_not_count() -> None:
    assert coverage("anything at all", ["nothing alike"], None) == 1.0


def test_coverage_lowers_confidence_when_weighed() -> None:
    fitted = Calibration(sentence_weight=5, passage_weight=5, coverage_weight=6, bias=-10)
    covered, missed = Signals(0.6, 0.6, 1.0), Signals(0.6, 0.6, 0.3)
    assert fitted.confidence(covered) > 0.5 > fitted.confidence(missed)
    # The default (ClapNQ) calibration does not weigh it.
    assert Calibration().confidence(covered) == Calibration().confidence(missed)


def test_a_calibration_round_trips_and_a_damaged_one_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    assert Calibration.load(path) is None
    fitted = Calibration(sentence_weight=3.5, coverage_weight=2.0, threshold=0.6, fitted_on="t")
    fitted.save(path)
    assert Calibration.load(path) == fitted
    path.write_text(json.dumps({"sentence_weight": "lots"}) + "}")
    with pytest.raises(ConfigError, match="copqa tune"):
        Calibration.load(path)
