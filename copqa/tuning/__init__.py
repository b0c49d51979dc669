"""Learning from the community's solved threads: the abstention calibration and the re-ranker (`copqa tune`)."""

from copqa.tuning.calibration import (
    MIN_THREADS,
    Tuning,
    calibration_path,
    collect,
    fit,
    saved_curve,
    solved_questions,
)
from copqa.tuning.reranker import train

__all__ = [
    "MIN_THREADS",
    "Tuning",
    "calibration_path",
    "collect",
    "fit",
    "saved_curve",
    "solved_questions",
    "train",
]
