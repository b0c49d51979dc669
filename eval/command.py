"""`copqa eval ...`: answer-quality runs, BEIR retrieval runs, and cases from the community.

  copqa eval run CASES.jsonl [--k 5] [--out DIR] [--compare OLD/report.json]
                             [--fail-under recall@5=0.8,abstention=0.6] [--judge]
  copqa eval beir DIR [--out DIR]
  copqa eval build --from-threads [--source stackexchange] --out cases.jsonl
  copqa eval build --from-gaps --out cases.jsonl

Every run writes report.json, report.md and report.html, and is recorded in the
catalog's history (the Maintainers tab shows the latest).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import AbstractContextManager, closing
from pathlib import Path
from typing import TYPE_CHECKING

from copqa import home as layout
from copqa.errors import ConfigError

if TYPE_CHECKING:
    from copqa.assistant import Assistant
    from copqa.settings import Settings
    from eval.judge import LLMJudge

HEADLINE = ("recall@{k}", "cited_evidence", "coverage", "abstention", "precision", "accuracy",
            "invalid_citations", "latency_p95_ms")  # fmt: skip


def add_eval_parser(commands: argparse._SubParsersAction) -> None:
    """The `eval` sub-command and its own sub-commands, on the `copqa` parser."""
    evaluation = commands.add_parser(
        "eval",
        help="evaluate answer quality; build test cases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = evaluation.add_subparsers(dest="eval_command", required=True, metavar="ACTION")

    run = actions.add_parser("run", help="run a cases file against the store")
    run.add_argument("cases", type=Path, metavar="CASES.jsonl")
    run.add_argument("--k", type=int, default=None, help="passages per question (default: top_k)")
    run.add_argument("--out", type=Path, help="report folder (default: COPQA_HOME/eval/<run>)")
    run.add_argument("--corpus", type=Path, help="answer from a throw-away store of this JSONL")
    run.add_argument("--compare", type=Path, metavar="OLD/report.json", help="print deltas")
    run.add_argument("--fail-under", default="", metavar="M=V,...", help="exit 1 below these")
    run.add_argument("--fail-over", default="", metavar="M=V,...", help="exit 1 above these")
    run.add_argument("--judge", action="store_true", help="also LLM-judged (needs COPQA_LLM__*)")
    run.add_argument("--json", action="store_true", help="print the metrics as JSON")
    run.set_defaults(run=run_cases)

    beir = actions.add_parser("beir", help="retrieval on a BEIR folder (throw-away index)")
    beir.add_argument("folder", type=Path, metavar="DIR")
    beir.add_argument("--out", type=Path, help="report folder (default: COPQA_HOME/eval/<run>)")
    beir.add_argument("--json", action="store_true", help="print the figures as JSON")
    beir.set_defaults(run=run_beir)

    build = actions.add_parser("build", help="cases from solved threads or knowledge gaps")
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-threads", action="store_true", help="solved threads of the store")
    source.add_argument("--from-gaps", action="store_true", help="unanswered and 👎 questions")
    build.add_argument("--source", action="append", default=[], help="only these kinds")
    build.add_argument("--maintainer", action="append", default=[], help="a maintainer's name")
    build.add_argument("--limit", type=int, help="at most this many cases")
    build.add_argument("--out", type=Path, required=True, metavar="cases.jsonl")
    build.set_defaults(run=build_cases)


def run_cases(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from eval.cases import load_cases
    from eval.gate import breaches, deltas, parse_limits
    from eval.runner import CaseRunner

    cases = load_cases(args.cases)
    k = settings.retrieval.top_k if args.k is None else args.k
    if k < 0:
        raise ConfigError("--k must be 0 or more")
    under, over = parse_limits(args.fail_under), parse_limits(args.fail_over)
    old = _read_report(args.compare) if args.compare else None
    with _assistant(settings, args.corpus) as assistant:
        judge = _judge(settings) if args.judge else None
        with tqdm(total=len(cases), desc="cases", unit=" case", file=sys.stderr) as bar:
            result = CaseRunner(assistant, k, judge).run(
                cases, args.cases.resolve(), on_case=lambda done, _: bar.update(done - bar.n)
            )
            bar.update(len(cases) - bar.n)
    folder = _finish(settings, result, "cases", str(args.cases), args.out, args.cases.stem)
    metrics = result["metrics"]
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        for name in (n.format(k=k) for n in HEADLINE):
            print(f"{name:>20}  {_shown(metrics.get(name))}")
        print(f"reports in {folder}")
    if old is not None:
        print(f"\nchange since {args.compare}:")
        for name, before, after, change in deltas(old, result):
            sign = "" if change is None else f"{change:+.4g}"
            print(f"{name:>20}  {_shown(before):>9} -> {_shown(after):>9}  {sign}")
    failed = breaches(result, under, over)
    for breach in failed:
        print(f"FAIL: {breach}", file=sys.stderr)
    return 1 if failed else 0


def run_beir(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from copqa.embedding import Embedder
    from eval.retrieval_quality import evaluate, load_beir

    dataset = load_beir(args.folder)
    embedder = Embedder.from_settings(settings)
    figures = evaluate(dataset, embedder, settings)
    corpus = sum(1 for line in dataset.corpus.read_text().splitlines() if line.strip())
    result = {
        "schema": 1,
        "kind": "beir",
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataset": dataset.name,
        "folder": str(args.folder.resolve()),
        "queries": len(dataset.queries),
        "corpus": corpus,
        "retrievers": figures,
    }
    folder = _finish(settings, result, "beir", str(args.folder), args.out, dataset.name)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, values in figures.items():
            shown = "  ".join(f"{metric} {value:.4f}" for metric, value in values.items())
            print(f"{name:>18}  {shown}")
        print(f"reports in {folder}")
    return 0


def build_cases(args: argparse.Namespace, settings: Settings) -> int:
    from copqa.community import CommunityRecords
    from copqa.store import Store, catalog_exists

    if not catalog_exists(settings.home, settings.catalog):
        raise ConfigError(f"no store at {settings.home}: ingest the community first")
    if args.from_gaps:
        cases = _gap_cases(settings)
        summary = f"{len(cases)} questions to complete (answerable, answer and evidence)"
    else:
        from copqa.embedding import Embedder
        from eval.build import cases_from_threads, load_maintainers

        embedder = Embedder.from_settings(settings)
        store = Store.from_settings(settings, embedder.identity, embedder.dimension)
        try:
            with CommunityRecords.open(settings) as records:
                maintainers = load_maintainers(records.accounts)
            built = cases_from_threads(
                store,
                kinds=tuple(args.source),
                maintainers=maintainers | {m.casefold() for m in args.maintainer},
                limit=args.limit,
            )
        finally:
            store.close()
        cases = built.cases
        how = ", ".join(f"{n} by {way}" for way, n in built.resolved_by.items())
        summary = (
            f"{len(cases)} cases from {built.threads} threads ({how}; {built.skipped} skipped)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8"
    )
    print(f"{summary} -> {args.out}")
    return 0


def _gap_cases(settings: Settings) -> list[dict]:
    from copqa.community import CommunityRecords, as_cases, knowledge_gaps
    from copqa.embedding import Embedder

    with CommunityRecords.open(settings) as records:
        questions = records.activity.gaps(settings.app.unsure_below)
    embedder = Embedder.from_settings(settings)
    return as_cases(knowledge_gaps(questions, embedder))


def _assistant(settings: Settings, corpus: Path | None) -> AbstractContextManager[Assistant]:
    from copqa.assistant import Assistant
    from copqa.store import catalog_exists

    if corpus is not None:
        from eval.scratch import scratch_assistant

        return scratch_assistant(corpus, settings=settings)
    if not catalog_exists(settings.home, settings.catalog):
        raise ConfigError(f"no store at {settings.home}: ingest first, or give --corpus")
    return closing(Assistant.from_settings(settings))


def _judge(settings: Settings) -> LLMJudge:
    if settings.llm.provider == "none":
        raise ConfigError("--judge needs an LLM: set COPQA_LLM__PROVIDER, __BASE_URL, __MODEL")
    from copqa.answering import build_llm
    from eval.judge import LLMJudge

    return LLMJudge(build_llm(settings.llm))


def _finish(
    settings: Settings, result: dict, kind: str, subject: str, out: Path | None, name: str
) -> Path:
    """Write the three report files and record the run in the catalog's history."""
    from copqa.community import CommunityRecords
    from eval.report import write_report

    folder = out or settings.home / layout.EVALUATIONS / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    write_report(result, folder)
    settings.home.mkdir(parents=True, exist_ok=True)
    with CommunityRecords.open(settings) as records:
        summary = result.get("metrics") or result.get("retrievers") or {}
        records.activity.record_evaluation(kind, subject, str(folder.resolve()), summary)
    return folder


def _read_report(path: Path) -> dict:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the report to compare with, {path}: {exc}") from exc


def _shown(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}" if value <= 1 else f"{value:.0f}"
    return str(value)
