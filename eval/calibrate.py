"""Fitting the abstention confidence on a cases file with unanswerable questions (ClapNQ).

`python -m eval.calibrate CASES.jsonl CORPUS.jsonl` ingests the corpus into a throw-away
store, records for every case the two signals the extractive answerer sees (the best
sentence's and the best passage's similarity to the question), fits a logistic model of
"answerable" on them, and prints the weights and the coverage/precision trade-off over
thresholds. The weights go into `copqa.answering.Calibration`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copqa.offline import enforce_offline


@dataclass(frozen=True)
class Signals:
    sentence: float
    passage: float
    answerable: bool


def collect(cases: Path, corpus: Path) -> list[Signals]:
    from eval.scratch import scratch_assistant

    with scratch_assistant(corpus) as assistant:
        top_k = assistant.settings.retrieval.top_k
        signals = []
        for line in cases.read_text().splitlines():
            case = json.loads(line)
            passages = assistant.retriever.retrieve(case["question"], top_k)
            sentence = assistant.extractive.assess(case["question"], passages)[0].sentence
            top = passages[0].score if passages else 0.0
            signals.append(Signals(sentence, top, bool(case["answerable"])))
    return signals


def fit(
    signals: list[Signals], steps: int = 20_000, rate: float = 0.5
) -> tuple[float, float, float]:
    """Logistic regression by gradient descent: (sentence weight, passage weight, bias)."""
    x = np.array([[s.sentence, s.passage, 1.0] for s in signals])
    y = np.array([1.0 if s.answerable else 0.0 for s in signals])
    w = np.zeros(3)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= rate * x.T @ (p - y) / len(y)
    return float(w[0]), float(w[1]), float(w[2])


def trade_off(
    signals: list[Signals], weights: tuple[float, float, float]
) -> list[dict[str, float]]:
    """Coverage, precision and accuracy at each threshold, as PaperQA2 reports them.

    Here "correct" for an answered case means answerable (the answer's quality is
    measured by `copqa eval run`); for a declined case, unanswerable.
    """
    a, b, c = weights
    confidence = [1 / (1 + np.exp(-(a * s.sentence + b * s.passage + c))) for s in signals]
    rows = []
    for threshold in np.arange(0.1, 0.95, 0.05):
        answered = [s for s, conf in zip(signals, confidence, strict=True) if conf >= threshold]
        right = sum(s.answerable for s in answered)
        declined_right = sum(
            not s.answerable
            for s, conf in zip(signals, confidence, strict=True)
            if conf < threshold
        )
        answerable = sum(s.answerable for s in signals)
        rows.append(
            {
                "threshold": round(float(threshold), 2),
                "coverage": right / answerable if answerable else 0.0,
                "precision": right / len(answered) if answered else 0.0,
                "accuracy": (right + declined_right) / len(signals),
            }
        )
    return rows


def main() -> None:
    enforce_offline()
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    parser.add_argument("cases", type=Path)
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    signals = collect(args.cases, args.corpus)
    weights = fit(signals)
    print(f"sentence_weight={weights[0]:.2f} passage_weight={weights[1]:.2f} bias={weights[2]:.2f}")
    for row in trade_off(signals, weights):
        print(
            f"threshold {row['threshold']:.2f}: coverage {row['coverage']:.3f} "
            f"precision {row['precision']:.3f} accuracy {row['accuracy']:.3f}"
        )


if __name__ == "__main__":
    main()
