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

from copqa import home as layout  # noqa: E402  (after the offline variables)
from copqa.assistant import Assistant, check_question  # noqa: E402
from copqa.cli.maintenance import add_maintenance_parsers, open_store  # noqa: E402
from copqa.cli.members import add_members_parser  # noqa: E402
from copqa.cli.output import answer_json, answer_text  # noqa: E402
from copqa.cli.tune import add_tune_parser, describe_reranker, retrain_reranker  # noqa: E402
from copqa.errors import CopqaError  # noqa: E402
from copqa.models import SearchFilter  # noqa: E402
from copqa.settings import Settings  # noqa: E402
from eval.command import add_eval_parser  # noqa: E402

EXAMPLES = """examples:
  copqa ingest docs/ slack-export.zip       read documents and discussion exports
  copqa ingest docs/ --prune --json         also forget files that were deleted; JSON report
  copqa ask "how do I book the laser cutter?"
  copqa ask "who maintains the CRAN mirror list?" -k 8 --json
  copqa ask --json - < questions.txt        one JSON answer per line, model loaded once
  copqa stats --json
  copqa members                             who posted, where and when
  copqa members forget "Jane Doe"           remove every post of a member, for good
  copqa members add ada --role maintainer   an account that may upload and manage (asks a password)
  copqa members add bo --role member --password-stdin < pw.txt
  copqa members accounts --json             who has an account, and their role
  copqa members remove bo                   delete an account
  copqa sources --json                      every source: id, kind, path, documents, chunks
  copqa sources delete docs/old-minutes     delete a source (by path or id) and its vectors
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
    ask.set_defaults(run=_ask)

    add_members_parser(commands)

    sources = commands.add_parser("sources", help="the sources the store holds; delete one")
    sources.add_argument(
        "action", nargs="?", choices=["list", "delete"], default="list",
        help="list the sources (default), or delete one with its chunks and vectors",
    )  # fmt: skip
    sources.add_argument("source", nargs="?", help="with delete: the source's id or its path")
    sources.add_argument("--json", action="store_true", help="print as JSON")
    sources.set_defaults(run=_sources)

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
            args.paths, kind=args.kind, uploader=args.uploader, prune=args.prune, progress=progress
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


def _sources(args: argparse.Namespace, settings: Settings) -> int:
    """Source commands: the catalog and the vectors, without the embedding model if possible."""
    from copqa.store import read_library

    if args.action == "delete":
        return _delete_source(args, settings)
    entries = read_library(settings.home, settings.catalog)
    if args.json:
        listing = [
            {"id": e.source_id, "kind": e.kind, "locator": e.locator,
             "documents": e.documents, "chunks": e.chunks}
            for e in entries
        ]  # fmt: skip
        print(json.dumps(listing, indent=2, ensure_ascii=False))
    else:
        for e in entries:
            print(
                f"{e.source_id}  {e.kind}  {e.documents} documents, {e.chunks} chunks  {e.locator}"
            )
    return 0


def _delete_source(args: argparse.Namespace, settings: Settings) -> int:
    """Delete one source as a maintainer would on the page: rows, vectors, stored upload."""
    from copqa.community import Account, Library
    from copqa.store import catalog_exists

    if not args.source:
        raise CopqaError("sources delete needs the source's id or path; see `copqa sources`")
    missing = CopqaError(f"no source with id or path {args.source!r}; see `copqa sources`")
    if not catalog_exists(settings.home, settings.catalog):
        raise missing
    store = open_store(settings)
    try:
        # As many chunks per transaction as ingestion writes: a killed deletion keeps its part.
        library = Library(store, settings.home / layout.UPLOADS, settings.ingest.embed_batch)
        path = str(Path(args.source).resolve())
        shelf = next(
            (s for s in library.shelves() if args.source == s.source_id or path == s.entry.locator),
            None,
        )
        if shelf is None:
            raise missing
        # Whoever runs the command holds the store's files: a maintainer.
        library.delete(shelf.source_id, Account("", "maintainer"))
    finally:
        store.close()
    entry = shelf.entry
    if args.json:
        print(json.dumps({"deleted": entry.source_id, "locator": entry.locator,
                          "documents": entry.documents, "chunks": entry.chunks}, indent=2))  # fmt: skip
    else:
        print(f"deleted {entry.locator}: {entry.documents} documents, {entry.chunks} chunks")
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
