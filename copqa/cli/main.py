"""The `copqa` command: ingest sources, ask questions, show what the store holds."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from copqa.offline import enforce_offline

enforce_offline()

from copqa.access import GUEST, Reader, parse_level  # noqa: E402
from copqa.assistant import Assistant, check_question  # noqa: E402
from copqa.cli.maintenance import add_maintenance_parsers  # noqa: E402
from copqa.cli.members import add_members_parser  # noqa: E402
from copqa.cli.output import answer_json, answer_text  # noqa: E402
from copqa.cli.sources import add_sources_parser  # noqa: E402
from copqa.cli.tune import add_tune_parser, describe_reranker, retrain_reranker  # noqa: E402
from copqa.errors import CopqaError  # noqa: E402
from copqa.models import SearchFilter  # noqa: E402
from copqa.settings import Settings  # noqa: E402
from eval.command import add_eval_parser  # noqa: E402

EXAMPLES = """examples:
  copqa ingest docs/ slack-export.zip       read documents and discussion exports
  copqa ingest docs/ --prune --json         also forget files that were deleted; JSON report
  copqa ingest team.mbox --access members   a private list: members only, never guests
  copqa ask "how do I book the laser cutter?"
  copqa ask "who maintains the CRAN mirror list?" -k 8 --json
  copqa ask --json - < questions.txt        one JSON answer per line, model loaded once
  copqa stats --json
  copqa members                             who posted, where and when
  copqa members forget "Jane Doe"           remove every post of a member, for good
  copqa members add ada --role maintainer   an account that may upload and manage (asks a password)
  copqa members add bo --role member --password-stdin < pw.txt
  copqa members accounts --json             who has an account: role, groups
  copqa members groups                      each private place's group and its members
  copqa members remove bo                   delete an account
  copqa sources --json                      every source: id, kind, path, documents, chunks
  copqa sources delete docs/old-minutes     delete a source (by path or id) and its vectors
  copqa sources set-access ID members       only signed-in members may read that source
  copqa ask "who runs the mirror?" --as bo  ask as the account bo (default: as a guest)
  copqa eval run cases.jsonl --fail-under recall@5=0.8,abstention=0.6
  copqa eval beir ../shared/eval/stackfaq   dense, BM25 and hybrid retrieval on a BEIR folder
  copqa eval build --from-threads --source stackexchange --out cases.jsonl
  copqa tune                                learn to rank from the community's solved threads
  copqa backup /backups/2026-11-29           a consistent copy, while the app runs
  copqa restore /backups/2026-11-29          put that copy back
  copqa rebuild                             make the vectors again from the catalog
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.home:
        settings.home = args.home
    try:
        return int(args.run(args, settings))
    except CopqaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="copqa",
        description="Answers from a community's documents and discussions, with citations.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--home", type=Path, help="data directory (default: $COPQA_HOME or .copqa)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="read files and exports into the store")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--kind", help="the format of PATH, when detection is not enough")
    ingest.add_argument("--uploader", default="", help="member credited with these documents")
    ingest.add_argument(
        "--access",
        type=parse_level,
        default=None,
        help="who may read these sources: public (new sources), members, maintainers or "
        "group:NAME; kept for later runs (a private channel stays its members')",
    )
    ingest.add_argument("--prune", action="store_true", help="forget sources that are gone")
    ingest.add_argument("--strict", action="store_true", help="exit 1 if any file failed")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.set_defaults(run=_ingest)

    ask = commands.add_parser("ask", help="answer a question from the store")
    ask.add_argument("question", help='the question, or "-" to read one per line from stdin')
    ask.add_argument("-k", type=int, default=None, help="passages to retrieve")
    ask.add_argument(
        "--kind", action="append", default=[], help="only these source kinds (repeatable)"
    )
    ask.add_argument(
        "--channel", action="append", default=[], help="only these channels (repeatable)"
    )
    ask.add_argument("--author", action="append", default=[], help="only passages by these members")
    ask.add_argument("--since", help="only sources dated on or after YYYY-MM-DD")
    ask.add_argument("--until", help="only sources dated on or before YYYY-MM-DD")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument(
        "--as", dest="account", default="", help="ask as this account (default: as a guest)"
    )
    ask.set_defaults(run=_ask)

    add_members_parser(commands)

    add_sources_parser(commands)

    add_eval_parser(commands)
    add_maintenance_parsers(commands)
    add_tune_parser(commands)

    stats = commands.add_parser("stats", help="what the store holds")
    stats.add_argument("--json", action="store_true", help="print as JSON")
    stats.set_defaults(run=_stats)
    return parser


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from copqa.community import CommunityRecords
    from ingest.factory import build_pipeline
    from ingest.pipeline import IngestProgress

    assistant = Assistant.from_settings(settings)
    records = CommunityRecords.open(settings)
    pipeline = build_pipeline(settings, assistant.store, assistant.embedder, records.activity)
    # The bar counts bytes of the sources read: their total is known up front, hence an ETA.
    with tqdm(
        desc="ingesting",
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=args.json or None,
        file=sys.stderr,
    ) as bar:

        def progress(step: IngestProgress) -> None:
            bar.total = step.total_bytes
            elapsed = bar.format_dict["elapsed"] or 1e-9
            bar.set_postfix_str(
                f"{step.documents} docs, {step.chunks} chunks, {step.chunks / elapsed:.1f} chunks/s",
                refresh=False,
            )
            bar.update(step.read_bytes - bar.n)

        report = pipeline.ingest(
            args.paths,
            kind=args.kind,
            uploader=args.uploader,
            access=args.access or "",
            prune=args.prune,
            progress=progress,
        )
    # What fusion ranks first changes with what is stored: the re-ranker learns it again.
    changed = report.added or report.updated or report.removed
    reranker = retrain_reranker(assistant, quiet=args.json) if changed else None
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.removed}: {report.chunks} chunks in {report.seconds:.1f} s"
        )
        for failure in report.failed:
            print(f"failed: {failure.path}: {failure.error}")
        if changed:
            print(describe_reranker(reranker))
    return 1 if args.strict and report.failed else 0


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.question != "-":  # refused before the model is loaded
        check_question(args.question, (), settings.answer)
    assistant = Assistant.from_settings(settings)
    where = SearchFilter(
        levels=_reader(args.account, settings, assistant).levels,
        kinds=tuple(args.kind),
        channels=tuple(args.channel),
        authors=tuple(args.author),
        since=_epoch(args.since),
        until=_epoch(args.until, end_of_day=True),
    )
    for question in _questions(args.question):
        started = time.perf_counter()
        answer = assistant.ask(question, args.k, where=where)
        if args.json:
            payload = answer_json(answer)
            payload["seconds"] = round(time.perf_counter() - started, 3)
            print(json.dumps(payload, ensure_ascii=False), flush=True)
        else:
            print(answer_text(answer), flush=True)
    return 0


def _reader(name: str, settings: Settings, assistant: Assistant) -> Reader:
    """Who `--as` names: that account's reader; a guest without it.

    Raises:
        CopqaError: No account has that name.
    """
    from copqa.community import CommunityRecords, reader_for

    if not name:
        return GUEST
    with CommunityRecords.open(settings) as records:
        account = records.accounts.get(name)
    if account is None:
        raise CopqaError(f"no account named {name!r}; see `copqa members accounts`")
    return reader_for(account, assistant.store, settings.members.aliases)


def _questions(argument: str) -> Iterator[str]:
    if argument != "-":
        yield argument
        return
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    assistant = Assistant.from_settings(settings)
    counts = assistant.store.counts()
    stats = {
        "sources": counts.sources,
        "documents": counts.documents,
        "posts": counts.posts,
        "chunks": counts.chunks,
        "vectors": assistant.store.vector_count(),
        "members": counts.members,
        "model": assistant.embedder.identity,
        "store": str(settings.home.resolve()),
    }
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key:>9}: {value}")
    return 0


def _epoch(day: str | None, end_of_day: bool = False) -> int | None:
    if not day:
        return None
    try:
        moment = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise CopqaError(f"dates are YYYY-MM-DD, not {day!r}") from exc
    return int(moment.timestamp()) + (86399 if end_of_day else 0)


if __name__ == "__main__":
    sys.exit(main())
