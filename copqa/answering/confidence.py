"""How sure an answer is: signals from the retrieved passages, and a logistic calibration.

Three signals: how well the best quotable sentence matches the question, how well the best
passage does, and how much of the question's *rare* words the quoted passages hold (a
question about GPUs answered from a passage about CPUs matches well and covers little).
`Calibration` turns them into a confidence; the default was fitted on ClapNQ, and
`copqa tune` fits one on the community's own solved threads (copqa/tuning/calibration.py).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Protocol

from copqa.errors import ConfigError
from copqa.json_file import write_json

TYPO_SIMILARITY = 0.85  # "enviroment" still covers "environment"
TYPO_MIN_LENGTH = 5


class Vocabulary(Protocol):
    """The community's words: how a text's keywords are spelled, and how rare each is."""

    def terms(self, text: str) -> set[str]: ...

    def rarity(self, text: str) -> dict[str, float]: ...


@dataclass(frozen=True)
class Signals:
    sentence: float  # the best quotable sentence's similarity to the question
    passage: float  # the best passage's similarity to the question
    coverage: float = 1.0  # share of the question's rarity held by the quoted passages


@dataclass(frozen=True)
class Calibration:
    """Logistic confidence from the signals; below `threshold` copqa abstains.

    The default weights were fitted on ../shared/eval/clapnq (`python -m eval.calibrate`,
    303 questions, half of them unanswerable), where accuracy is flat at its best (0.805)
    for thresholds 0.45 to 0.55; the lower end is taken because an answer whose citations
    the reader can check beats a refusal. ClapNQ's passages are Wikipedia's: the coverage
    signal is weighed only by a community's own fit.
    """

    sentence_weight: float = 8.6
    passage_weight: float = 8.4
    coverage_weight: float = 0.0
    bias: float = -9.85
    threshold: float = 0.45
    fitted_on: str = "clapnq"  # or a description of the community data it was fitted on

    def confidence(self, signals: Signals) -> float:
        z = (
            self.sentence_weight * signals.sentence
            + self.passage_weight * signals.passage
            + self.coverage_weight * signals.coverage
            + self.bias
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def save(self, path: Path) -> None:
        write_json(path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> Calibration | None:
        """The calibration saved at `path`; None when there is none.

        Raises:
            ConfigError: The file exists but is not a calibration.
        """
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"cannot read the calibration {path}: {exc}; run `copqa tune` again"
            ) from exc


def coverage(question: str, passages: Iterable[str], vocabulary: Vocabulary | None) -> float:
    """Share of the question's keywords, weighted by rarity, that the passages hold."""
    if vocabulary is None:
        return 1.0
    wanted = vocabulary.rarity(question)
    total = sum(wanted.values())
    if total <= 0:
        return 1.0
    held = vocabulary.terms(" ".join(passages))
    found = sum(weight for term, weight in wanted.items() if _held(term, held))
    return found / total


def _held(term: str, held: set[str]) -> bool:
    if term in held:
        return True
    if len(term) < TYPO_MIN_LENGTH:
        return False
    return any(
        abs(len(other) - len(term)) <= 2
        and other[0] == term[0]
        and difflib.SequenceMatcher(None, term, other).ratio() >= TYPO_SIMILARITY
        for other in held
    )
