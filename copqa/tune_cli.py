"""`copqa tune`: fit the abstention confidence on the community's own solved threads.

copqa tune            refit and save COPQA_HOME/calibration.json (also after each ingest)
copqa tune --json     the fitted weights, threshold and curve as JSON
copqa tune --reset    forget the community's fit: the default calibration again
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from copqa.assistant import Assistant
from copqa.settings import Settings
from copqa.tuning import MIN_THREADS, Tuning, calibration_path, collect, fit, solved_questions


def add_tune_parser(commands: argparse._SubParsersAction) -> None:
    tune = commands.add_parser(
        "tune",
        help="fit when to abstain on the community's solved threads",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("--reset", action="store_true", help="back to the default calibration")
    tune.add_argument("--json", action="store_true", help="print the result as JSON")
    tune.set_defaults(run=_tune)


def retune(assistant: Assistant, quiet: bool = False) -> Tuning | None:
    """Refit and save the calibration; None (and the old one kept) with too few threads."""
    from tqdm import tqdm

    questions = solved_questions(assistant.store)
    if len(questions) < MIN_THREADS:
        return None
    with tqdm(
        total=len(questions), desc="tuning", unit=" thread", disable=quiet or None, file=sys.stderr
    ) as bar:
        examples = collect(assistant, questions, on_question=lambda done: bar.update(done - bar.n))
    tuning = fit(examples, len(questions), f"{len(questions)} solved threads of this community")
    tuning.save(assistant.settings.home)
    return tuning


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


def _tune(args: argparse.Namespace, settings: Settings) -> int:
    if args.reset:
        calibration_path(settings.home).unlink(missing_ok=True)
        print("calibration: default")
        return 0
    assistant = Assistant.from_settings(settings)
    try:
        tuning = retune(assistant, quiet=args.json)
    finally:
        assistant.close()
    if args.json:
        shown = (
            None
            if tuning is None
            else {**asdict(tuning), "calibration": asdict(tuning.calibration)}
        )
        print(json.dumps(shown, indent=2))
    else:
        print(describe(tuning))
    return 0
