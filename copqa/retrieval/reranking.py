"""Re-ranking the fused candidates with what copqa knows of each passage's place in its thread.

Fusion ranks passages by how much they read like the question; in a discussion the post
that reads most like the question is usually the question itself, or the asker saying more
of it. `Reranker` is a logistic regression over a few features of each candidate (its
similarity and keyword match, how its thread as a whole matched, whether it opens its
thread or holds only the asker's words, how much of the question's rare words it holds),
learnt from the community's own solved threads (copqa/tuning/reranker.py): asked by a
thread's title, the windows holding the thread's replies are the ones to rank first.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from copqa import home as layout
from copqa.answering import Vocabulary
from copqa.errors import ConfigError
from copqa.json_file import write_json
from copqa.models import Chunk

FEATURES = (
    "similarity",  # cosine to the question
    "keyword",  # BM25 relative to the question's best match
    "below_best",  # similarity less the best candidate's
    "thread_below_best",  # the best similarity of the candidate's thread or file, less the best
    "thread_hits",  # log(1 + candidates of the same thread or file)
    "opening_window",  # the window that opens its thread
    "asker_only",  # a thread window holding only the asker's words
    "answer_share",  # share of its posts written by members other than the asker
    "accepted",  # holds an accepted answer
    "window_position",  # log(1 + the window's place in its thread)
    "document",  # part of a shared file, not a discussion
    "rare_terms",  # share of the question's rare words it holds (with its title)
    "fused_rank",  # log(1 + its place in the fused order)
)


@dataclass(frozen=True)
class Reranker:
    """A linear score over standardised `FEATURES`; higher ranks first."""

    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    trained_on: str = ""

    def scores(self, rows: np.ndarray) -> np.ndarray:
        standard = (rows - np.array(self.mean)) / np.array(self.scale)
        return np.asarray(standard @ np.array(self.weights))

    def save(self, path: Path) -> None:
        write_json(path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> Reranker | None:
        """The re-ranker saved at `path`; None when there is none.

        Raises:
            ConfigError: The file is not a re-ranker of these features.
        """
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            reranker = cls(
                weights=tuple(float(w) for w in data["weights"]),
                mean=tuple(float(m) for m in data["mean"]),
                scale=tuple(float(s) for s in data["scale"]),
                trained_on=str(data.get("trained_on", "")),
            )
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                f"cannot read the re-ranker {path}: {exc}; run `copqa tune` again"
            ) from exc
        if not len(reranker.weights) == len(reranker.mean) == len(reranker.scale) == len(FEATURES):
            raise ConfigError(
                f"the re-ranker {path} was trained on other features; run `copqa tune` again"
            )
        return reranker


def reranker_path(home: Path) -> Path:
    return home / layout.RERANKER


def features(
    question: str,
    candidates: Sequence[Chunk],
    similarity: dict[str, float],
    keyword: dict[str, float],
    vocabulary: Vocabulary,
) -> np.ndarray:
    """One row of `FEATURES` per candidate, in the candidates' (fused) order."""
    if not candidates:
        return np.zeros((0, len(FEATURES)))
    best = max(similarity.get(c.id, 0.0) for c in candidates)
    thread_best: dict[str, float] = {}
    for chunk in candidates:
        score = similarity.get(chunk.id, 0.0)
        thread_best[chunk.document_id] = max(thread_best.get(chunk.document_id, score), score)
    hits = Counter(c.document_id for c in candidates)
    wanted = vocabulary.rarity(question)
    rows = []
    for rank, chunk in enumerate(candidates):
        score = similarity.get(chunk.id, 0.0)
        discussion = bool(chunk.thread_id)
        window = int(chunk.id.rsplit(":", 1)[1]) if discussion else 0
        rows.append(
            [
                score,
                keyword.get(chunk.id, 0.0),
                score - best,
                thread_best[chunk.document_id] - best,
                math.log1p(hits[chunk.document_id]),
                float(discussion and window == 0),
                float(asker_only(chunk)),
                _answer_share(chunk) if discussion else 0.0,
                float(any(p.accepted for p in chunk.posts)),
                math.log1p(window),
                float(not discussion),
                _rare_share(wanted, vocabulary.terms(f"{chunk.title}\n{chunk.text}")),
                math.log1p(rank),
            ]
        )
    return np.array(rows)


def asker_only(chunk: Chunk) -> bool:
    """Whether a thread's window holds only the words of the member who opened it.

    The asker's posts state the problem, more of it, or thank: the answer is in the
    words of the others.
    """
    posts = [p for p in chunk.posts if not p.is_bot]
    return bool(chunk.thread_id and chunk.asker and posts) and all(
        p.opener or p.author_name == chunk.asker for p in posts
    )


def _rare_share(wanted: dict[str, float], held: set[str]) -> float:
    """Share of the question's rarity whose words the passage holds, spelt as asked (the
    answerer's coverage forgives typos too, at a cost too high for every candidate)."""
    total = sum(wanted.values())
    if total <= 0:
        return 1.0
    return sum(weight for term, weight in wanted.items() if term in held) / total


def _answer_share(chunk: Chunk) -> float:
    posts = [p for p in chunk.posts if not p.is_bot]
    if not posts:
        return 0.0
    others = [p for p in posts if not p.opener and p.author_name != chunk.asker]
    return len(others) / len(posts)
