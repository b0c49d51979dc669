"""Training the re-ranker on the community's own solved threads (`copqa tune`, `copqa ingest`).

Each solved thread is asked by its title, which is how a newcomer's question reads: short,
in their own words. Of the candidates fusion finds, the windows of that thread that hold
another member's words are the ones to rank first (label 1); every other candidate,
the thread's own question and the asker's further posts included, is a 0. A logistic
regression on the standardised features (copqa/retrieval/reranking.py) learns how much each matters
in this community; a few hundred questions take seconds on two cores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from copqa.models import EVERYTHING, Document
from copqa.retrieval import HybridRetriever, Reranker, asker_only
from copqa.tuning.calibration import MIN_THREADS, Threads, solved_questions

MAX_QUESTIONS = 300
MIN_TITLE_WORDS = 3
REGULARISATION = 0.1  # sklearn's C: strong, for a dozen weights learnt from noisy labels
DEPTH = 5  # the k the candidates are gathered for (fusion's pool is the larger)


def thread_title(document: Document) -> str:
    """A thread asked by its title; "" for a title too short to read as a question."""
    title = " ".join(document.title.split())
    return title if len(title.split()) >= MIN_TITLE_WORDS else ""


def train(
    retriever: HybridRetriever,
    threads: Threads,
    on_question: Callable[[int], None] | None = None,
) -> Reranker | None:
    """A re-ranker learnt from the threads; None when fewer than `MIN_THREADS` are solved."""
    from sklearn.linear_model import LogisticRegression

    questions = solved_questions(threads, MAX_QUESTIONS, ask=thread_title)
    if len(questions) < MIN_THREADS:
        return None
    rows, labels = [], []
    for done, (thread, question) in enumerate(questions):
        found = retriever.candidates(question, DEPTH, EVERYTHING)  # every level: maintainers'
        wanted = [c.document_id == thread and not asker_only(c) for c in found.ordered]
        if any(wanted):  # a thread fusion does not find at all teaches no order
            rows.append(retriever.features(question, found))
            labels += wanted
        if on_question is not None:
            on_question(done + 1)
    if not rows:
        return None
    x, y = np.vstack(rows), np.array(labels)
    spread = x.std(axis=0)
    mean, scale = x.mean(axis=0), np.where(spread > 1e-9, spread, 1.0)  # a constant: 1
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)
    model.fit((x - mean) / scale, y)
    return Reranker(
        weights=tuple(round(float(w), 5) for w in model.coef_[0]),
        mean=tuple(float(m) for m in mean),
        scale=tuple(float(s) for s in scale),
        trained_on=f"{len(questions)} solved threads of this community, asked by their titles",
    )
