"""What happened, for the maintainers: ingestion runs, questions asked, feedback given,
evaluations run.

Kept in the catalog's database, in tables of their own. Questions are what newcomers
typed; their answers are not kept, only whether copqa answered, how confident it was,
and which documents it cited.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from copqa.store import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at INTEGER NOT NULL, finished_at INTEGER,
    paths TEXT NOT NULL, report TEXT);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at INTEGER NOT NULL, asker TEXT NOT NULL,
    question TEXT NOT NULL, answered INTEGER NOT NULL, confidence REAL NOT NULL,
    cited TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, question_id INTEGER NOT NULL REFERENCES questions(id),
    rating INTEGER NOT NULL, comment TEXT NOT NULL, given_by TEXT NOT NULL,
    given_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_question ON feedback(question_id);
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, finished_at INTEGER NOT NULL, kind TEXT NOT NULL,
    subject TEXT NOT NULL, folder TEXT NOT NULL, metrics TEXT NOT NULL);
"""

GAP_REASONS = ("unanswered", "low confidence", "rated unhelpful")


@dataclass(frozen=True)
class RunRecord:
    id: int
    started_at: int
    finished_at: int | None  # None: the run did not finish (or still runs)
    paths: tuple[str, ...]
    report: dict | None


@dataclass(frozen=True)
class AskedQuestion:
    id: int
    asked_at: int
    asker: str
    question: str
    answered: bool
    confidence: float
    cited: tuple[str, ...]  # titles of the cited sources
    reason: str = ""  # why it is a knowledge gap, one of GAP_REASONS


@dataclass(frozen=True)
class EvaluationRecord:
    id: int
    finished_at: int
    kind: str  # "cases" or "beir"
    subject: str  # the cases file or the BEIR folder
    folder: str  # where its report files are
    metrics: dict


@dataclass(frozen=True)
class FeedbackRecord:
    question_id: int
    question: str
    rating: int  # +1 or -1
    comment: str
    given_by: str
    given_at: int


class ActivityLog:
    """Runs, questions and feedback; safe to share between threads, as its database is."""

    def __init__(self, database: Database) -> None:
        self._db = database
        database.create(_SCHEMA)

    # --- ingestion runs ----------------------------------------------------------------
    def start_run(self, paths: list[str]) -> int:
        row = self._db.execute(
            "INSERT INTO runs (started_at, paths) VALUES (?, ?) RETURNING id",
            (int(time.time()), json.dumps(paths)),
        ).fetchone()
        return int(row[0])

    def finish_run(self, run_id: int, report: dict[str, object]) -> None:
        self._db.execute(
            "UPDATE runs SET finished_at = ?, report = ? WHERE id = ?",
            (int(time.time()), json.dumps(report), run_id),
        )

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The latest ingestion runs, newest first."""
        rows = self._db.execute(
            "SELECT id, started_at, finished_at, paths, report FROM runs ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            RunRecord(
                rid, started, finished, tuple(json.loads(paths)), json.loads(report or "null")
            )
            for rid, started, finished, paths, report in rows
        ]

    # --- questions and feedback ---------------------------------------------------------
    def record_question(
        self, asker: str, question: str, answered: bool, confidence: float, cited: Sequence[str]
    ) -> int:
        """Log one question as asked; returns the id feedback refers to."""
        row = self._db.execute(
            "INSERT INTO questions (asked_at, asker, question, answered, confidence, cited) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (int(time.time()), asker, question, int(answered), confidence, json.dumps(cited)),
        ).fetchone()
        return int(row[0])

    def record_feedback(self, question_id: int, rating: int, comment: str, given_by: str) -> None:
        """A 👍 (+1) or 👎 (-1) on an answer; rating again replaces the earlier rating."""
        if rating not in (1, -1):
            raise ValueError(f"a rating is +1 or -1, not {rating}")
        with self._db.transaction():
            self._db.execute(
                "DELETE FROM feedback WHERE question_id = ? AND given_by = ?",
                (question_id, given_by),
            )
            self._db.execute(
                "INSERT INTO feedback (question_id, rating, comment, given_by, given_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (question_id, rating, comment.strip(), given_by, int(time.time())),
            )

    def feedback(self, limit: int = 50) -> list[FeedbackRecord]:
        """The latest feedback, newest first, with the question it is about."""
        rows = self._db.execute(
            "SELECT f.question_id, q.question, f.rating, f.comment, f.given_by, f.given_at "
            "FROM feedback f JOIN questions q ON q.id = f.question_id "
            "ORDER BY f.id DESC LIMIT ?",
            (limit,),
        )
        return [FeedbackRecord(*row) for row in rows]

    def gaps(self, low_confidence: float, limit: int = 500) -> list[AskedQuestion]:
        """Questions the knowledge did not serve: unanswered, answered unsurely, or rated 👎."""
        rows = self._db.execute(
            "SELECT q.id, q.asked_at, q.asker, q.question, q.answered, q.confidence, q.cited, "
            "EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.rating < 0) "
            "FROM questions q ORDER BY q.id DESC LIMIT ?",
            (limit * 4,),
        )
        found = []
        for qid, asked_at, asker, question, answered, confidence, cited, disliked in rows:
            if disliked:
                reason = GAP_REASONS[2]
            elif not answered:
                reason = GAP_REASONS[0]
            elif confidence < low_confidence:
                reason = GAP_REASONS[1]
            else:
                continue
            found.append(
                AskedQuestion(
                    qid, asked_at, asker, question, bool(answered), confidence,
                    tuple(json.loads(cited)), reason,
                )
            )  # fmt: skip
        return found[:limit]

    # --- evaluations ----------------------------------------------------------------------
    def record_evaluation(self, kind: str, subject: str, folder: str, metrics: dict) -> None:
        self._db.execute(
            "INSERT INTO evaluations (finished_at, kind, subject, folder, metrics) "
            "VALUES (?, ?, ?, ?, ?)",
            (int(time.time()), kind, subject, folder, json.dumps(metrics)),
        )

    def evaluations(self, limit: int = 20) -> list[EvaluationRecord]:
        """The latest evaluation runs, newest first."""
        rows = self._db.execute(
            "SELECT id, finished_at, kind, subject, folder, metrics FROM evaluations "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            EvaluationRecord(eid, at, kind, subject, folder, json.loads(metrics))
            for eid, at, kind, subject, folder, metrics in rows
        ]
