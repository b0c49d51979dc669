"""`copqa tune`: learn from the community's own solved threads.

copqa tune               train the re-ranker (COPQA_HOME/reranker.json; also after each ingest)
copqa tune --abstention  also refit when to abstain (COPQA_HOME/calibration.json)
copqa tune --json        what was learnt, as JSON
copqa tune --reset       forget both: the fused order and the default calibration again
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from copqa.assistant import Assistant
from copqa.retrieval import Reranker, reranker_path
from copqa.settings import Settings
from copqa.tuning import MIN_THREADS, Tuning, calibration_path, collect, fit, solved_questions


def add_tune_parser(commands: argparse._SubParsersAction) -> None:
    tune = commands.add_parser(
        "tune",
        help="learn to rank and when to abstain from the community's solved threads",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("--abstention", action="store_true", help="also refit when to abstain")
    tune.add_argument("--reset", action="store_true", help="forget the re-ranker and calibration")
    tune.add_argument("--json", action="store_true", help="print the result as JSON")
    tune.set_defaults(run=_tune)


def retrain_reranker(assistant: Assistant, quiet: bool = False) -> Reranker | None:
    """`Assistant.retrain_reranker` with a progress bar (none when `quiet`)."""
    with _bar(quiet, "re-ranker") as bar:
        return assistant.retrain_reranker(on_question=lambda n: bar.update(n - bar.n))


def retune(assistant: Assistant, quiet: bool = False) -> Tuning | None:
    """Refit and save the calibration; None (and the old one kept) with too few threads."""
    questions = solved_questions(assistant.store)
    if len(questions) < MIN_THREADS:
        return None
    with _bar(quiet, "abstention", len(questions)) as bar:
        examples = collect(assistant, questions, on_question=lambda done: bar.update(done - bar.n))
    tuning = fit(examples, len(questions), f"{len(questions)} solved threads of this community")
    tuning.save(assistant.settings.home)
    return tuning


def describe_reranker(reranker: Reranker | None) -> str:
    if reranker is None:
        return f"re-ranker: not trained: fewer than {MIN_THREADS} solved threads to learn from"
    return f"re-ranker: trained on {reranker.trained_on}"


def describe(tuning: Tuning | None) -> str:
    if tuning is None:
        return f"calibration not refitted: fewer than {MIN_THREADS} solved threads to fit on"
    c = tuning.calibration
    best = next(r for r in tuning.curve if r["threshold"] == c.threshold)
    return (
        f"calibration: fitted on {tuning.threads} solved threads; abstains below "
        f"{c.threshold:.2f} (answers {best['coverage']:.0%} of the threads' own questions, "
        f"declines {best['declined']:.0%} with the thread removed)"
    )


def _bar(quiet: bool, what: str, total: int | None = None):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit=" thread", disable=quiet or None, file=sys.stderr)


def _tune(args: argparse.Namespace, settings: Settings) -> int:
    if args.reset:
        calibration_path(settings.home).unlink(missing_ok=True)
        reranker_path(settings.home).unlink(missing_ok=True)
        print("re-ranker: none; calibration: default")
        return 0
    assistant = Assistant.from_settings(settings)
    try:
        reranker = retrain_reranker(assistant, quiet=args.json)
        tuning = retune(assistant, quiet=args.json) if args.abstention else None
    finally:
        assistant.close()
    if args.json:
        shown = {
            "reranker": None if reranker is None else asdict(reranker),
            "abstention": None
            if tuning is None
            else {**asdict(tuning), "calibration": asdict(tuning.calibration)},
        }
        print(json.dumps(shown, indent=2))
    else:
        print(describe_reranker(reranker))
        if args.abstention:
            print(describe(tuning))
    return 0
