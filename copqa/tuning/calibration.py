"""Fitting the abstention confidence on the community's own solved threads (`copqa tune`).

A constant fitted on Wikipedia passages does not carry over to a Slack or a Zulip: their
questions are shorter, their words rarer, their passages chattier. Every solved thread is
a question the community answered, so it gives two examples:

- asked with the whole store but the thread's opening window (the question itself, word for
  word), the answer should quote the thread's replies (label 1 when it does, 0 when it
  quotes something else);
- asked with that thread kept out, the community's answer is gone (label 0): the in-domain
  question nobody answered, which is where a confident quote does harm.

A logistic regression over the answerer's signals (copqa/answering/confidence.py) is fitted on these,
and the threshold is the one with the best balanced accuracy. The result is saved in
`COPQA_HOME/calibration.json` with the curve it was chosen from, which the Maintainers tab
and the evaluation report show.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from copqa import home as layout
from copqa.answering import Calibration, Signals
from copqa.json_file import write_json
from copqa.models import EVERYTHING, Document, ScoredChunk, SearchFilter

MIN_THREADS = 40  # fewer solved threads than this: the default calibration stays
MAX_THREADS = 150  # enough for three weights; asks stay within a minute or two
QUESTION_WORDS = 30
MIN_REPLY_WORDS = 8
SEED = 20261203
_ASKING = re.compile(
    r"\?|\b(how (do|can|to)|is there|any(one|body)|what('s| is)|why|error|trying to|help)\b",
    re.IGNORECASE,
)


class Threads(Protocol):
    """The community's discussions, as the store keeps them."""

    def discussion_ids(self) -> list[str]: ...

    def discussion(self, document_id: str) -> Document | None: ...


class Asker(Protocol):
    """What tuning needs of an assistant: passages for a question, and the answer's signals."""

    def passages(self, question: str, where: SearchFilter) -> list[ScoredChunk]: ...

    def quoted(self, question: str, passages: list[ScoredChunk]) -> tuple[Signals, list[str]]:
        """The signals of the answer, and the document ids of the passages it quotes."""
        ...


@dataclass(frozen=True)
class Example:
    signals: Signals
    label: bool


@dataclass(frozen=True)
class Tuning:
    calibration: Calibration
    threads: int
    examples: int
    curve: list[dict[str, float]]

    def save(self, home: Path) -> None:
        self.calibration.save(calibration_path(home))
        details = {"threads": self.threads, "examples": self.examples, "curve": self.curve}
        write_json(curve_path(home), details)


def saved_curve(home: Path) -> list[dict[str, float]]:
    """The curve `copqa tune` chose its threshold from; empty before it ran (or unreadable)."""
    try:
        details = json.loads(curve_path(home).read_text(encoding="utf-8"))
        return [dict(row) for row in details["curve"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def calibration_path(home: Path) -> Path:
    return home / layout.CALIBRATION


def curve_path(home: Path) -> Path:
    return home / layout.CALIBRATION_CURVE


def solved_questions(
    threads: Threads, limit: int = MAX_THREADS, ask: Callable[[Document], str] | None = None
) -> list[tuple[str, str]]:
    """(thread id, question) for threads whose opening post asks and someone else answered.

    `ask` says how a thread is asked ("" leaves it out): by default its title when that is
    a question, else its opening words. A fixed-seed sample, so a refit on the same store
    gives the same result.
    """
    ask = ask or _question
    found = []
    for document_id in threads.discussion_ids():
        document = threads.discussion(document_id)
        if document is None or len(document.posts) < 2:
            continue
        opener = document.posts[0]
        answered = any(
            p.author_id != opener.author_id
            and not p.is_bot
            and len(p.text.split()) >= MIN_REPLY_WORDS
            for p in document.posts[1:]
        )
        question = ask(document)
        if answered and question:
            found.append((document_id, question))
    random.Random(SEED).shuffle(found)
    return found[:limit]


def collect(
    asker: Asker,
    questions: Sequence[tuple[str, str]],
    on_question: Callable[[int], None] | None = None,
) -> list[Example]:
    examples = []
    for done, (thread, question) in enumerate(questions):
        # The post that asks is left out: a newcomer's question is not its verbatim copy, and
        # the answer is in the replies (a thread of one window has nothing left to give).
        asking = f"{thread}:0"
        # Tuning is the maintainers' own: it learns from every level (only a threshold is kept).
        passages = [p for p in asker.passages(question, EVERYTHING) if p.chunk.id != asking]
        signals, quoted = asker.quoted(question, passages)
        examples.append(Example(signals, thread in quoted))
        elsewhere = asker.passages(question, SearchFilter(levels=None, exclude_documents=(thread,)))
        signals, _ = asker.quoted(question, elsewhere)
        examples.append(Example(signals, False))
        if on_question is not None:
            on_question(done + 1)
    return examples


def fit(examples: Sequence[Example], threads: int, fitted_on: str) -> Tuning:
    """Logistic regression (L2, standardised features) and the balanced-accuracy threshold."""
    x = np.array([[e.signals.sentence, e.signals.passage, e.signals.coverage] for e in examples])
    y = np.array([1.0 if e.label else 0.0 for e in examples])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    # Balanced classes: a store with few correct answers still learns what one looks like.
    weight = np.where(y == 1, 0.5 / max(y.mean(), 1e-6), 0.5 / max(1 - y.mean(), 1e-6))
    w = np.zeros(4)
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w)))
        gradient = z.T @ ((p - y) * weight) / len(y) + 0.01 * np.r_[w[:3], 0.0]
        w -= 0.5 * gradient
    coefficients = w[:3] / scale
    bias = float(w[3] - (coefficients * mean).sum())
    calibration = Calibration(
        sentence_weight=round(float(coefficients[0]), 4),
        passage_weight=round(float(coefficients[1]), 4),
        coverage_weight=round(float(coefficients[2]), 4),
        bias=round(bias, 4),
        fitted_on=fitted_on,
    )
    confidences = [calibration.confidence(e.signals) for e in examples]
    curve = _curve(examples, confidences)
    best = max(curve, key=lambda row: (row["balanced_accuracy"], -row["threshold"]))
    calibration = Calibration(**{**asdict(calibration), "threshold": best["threshold"]})
    return Tuning(calibration, threads, len(examples), curve)


def _curve(examples: Sequence[Example], confidences: Sequence[float]) -> list[dict[str, float]]:
    rows = []
    positives = sum(e.label for e in examples) or 1
    negatives = sum(not e.label for e in examples) or 1
    for step in range(1, 20):
        threshold = step / 20
        answered = [c >= threshold for c in confidences]
        right = sum(a and e.label for a, e in zip(answered, examples, strict=True))
        declined = sum(not a and not e.label for a, e in zip(answered, examples, strict=True))
        rows.append(
            {
                "threshold": threshold,
                "coverage": round(right / positives, 4),
                "declined": round(declined / negatives, 4),
                "balanced_accuracy": round((right / positives + declined / negatives) / 2, 4),
            }
        )
    return rows


def _question(document: Document) -> str:
    """How the thread asks: its title when that is a question, else its opening words."""
    title = " ".join(document.title.split())
    if title.endswith("?") and len(title.split()) >= 4:
        return title
    opener = " ".join(document.posts[0].text.split())
    if not _ASKING.search(opener):
        return ""
    return " ".join(opener.split()[:QUESTION_WORDS])
