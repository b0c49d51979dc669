"""`copqa sources`: list the sources, delete one, or set who may read one."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from copqa import home as layout
from copqa.access import MAINTAINER, parse_level
from copqa.cli.maintenance import open_store
from copqa.community import Account, Library, Shelf
from copqa.errors import CopqaError
from copqa.settings import Settings
from copqa.store import Store, catalog_exists, read_library


def add_sources_parser(commands: argparse._SubParsersAction) -> None:
    sources = commands.add_parser(
        "sources", help="the sources the store holds; delete one, or set who may read it"
    )
    sources.add_argument(
        "action", nargs="?", choices=["list", "delete", "set-access"], default="list",
        help="list the sources (default), delete one with its chunks and vectors, or set "
        "its access level",
    )  # fmt: skip
    sources.add_argument("source", nargs="?", help="with delete, set-access: its id or path")
    sources.add_argument(
        "level", nargs="?", help="with set-access: public, members, maintainers or group:NAME"
    )
    sources.add_argument("--json", action="store_true", help="print as JSON")
    sources.set_defaults(run=_sources)


def _sources(args: argparse.Namespace, settings: Settings) -> int:
    """Source commands: the catalog and the vectors, never the embedding model.

    Whoever runs them holds the store's files: a maintainer, who sees every level.
    """
    if args.action == "delete":
        return _delete_source(args, settings)
    if args.action == "set-access":
        return _set_access(args, settings)
    entries = read_library(settings.home, None, settings.catalog)
    if args.json:
        listing = [
            {"id": e.source_id, "kind": e.kind, "locator": e.locator, "access": e.access,
             "documents": e.documents, "chunks": e.chunks}
            for e in entries
        ]  # fmt: skip
        print(json.dumps(listing, indent=2, ensure_ascii=False))
    else:
        for e in entries:
            print(
                f"{e.source_id}  {e.kind}  {e.access or 'maintainers (no level yet)'}  "
                f"{e.documents} documents, {e.chunks} chunks  {e.locator}"
            )
    return 0


def _set_access(args: argparse.Namespace, settings: Settings) -> int:
    if not args.level:
        raise CopqaError("sources set-access needs the source and a level, e.g. `members`")
    level = parse_level(args.level)
    with _opened(args, settings, "set-access") as (store, shelf):
        changed = store.set_access(shelf.source_id, level)
    entry = shelf.entry
    if args.json:
        print(json.dumps({"source": entry.source_id, "access": level, "chunks_changed": changed}))
    else:
        print(f"{entry.locator}: {level} ({changed} passages changed level)")
    return 0


def _delete_source(args: argparse.Namespace, settings: Settings) -> int:
    """Delete one source as a maintainer would on the page: rows, vectors, stored upload."""
    with _opened(args, settings, "delete") as (store, shelf):
        # As many chunks per transaction as ingestion writes: a killed deletion keeps its part.
        library = Library(store, settings.home / layout.UPLOADS, settings.ingest.embed_batch)
        library.delete(shelf.source_id, Account("", "maintainer"))
    entry = shelf.entry
    if args.json:
        print(json.dumps({"deleted": entry.source_id, "locator": entry.locator,
                          "documents": entry.documents, "chunks": entry.chunks}, indent=2))  # fmt: skip
    else:
        print(f"deleted {entry.locator}: {entry.documents} documents, {entry.chunks} chunks")
    return 0


@contextmanager
def _opened(
    args: argparse.Namespace, settings: Settings, action: str
) -> Iterator[tuple[Store, Shelf]]:
    """The store, and the source `args.source` names by id or path, for one action on it.

    Raises:
        CopqaError: No source was named, or none has that id or path.
    """
    if not args.source:
        raise CopqaError(f"sources {action} needs the source's id or path; see `copqa sources`")
    missing = CopqaError(f"no source with id or path {args.source!r}; see `copqa sources`")
    if not catalog_exists(settings.home, settings.catalog):
        raise missing
    store = open_store(settings)
    try:
        library = Library(store, settings.home / layout.UPLOADS)
        path = str(Path(args.source).resolve())
        shelf = next(
            (
                s
                for s in library.shelves(MAINTAINER)
                if args.source == s.source_id or path == s.entry.locator
            ),
            None,
        )
        if shelf is None:
            raise missing
        yield store, shelf
    finally:
        store.close()
