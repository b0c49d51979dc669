"""`copqa rebuild`, `copqa backup DIR` and `copqa restore DIR`: keeping a store whole."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from copqa.errors import CopqaError
from copqa.settings import Settings
from copqa.store import Store


def add_maintenance_parsers(commands: Any) -> None:
    """The maintenance commands, on the `copqa` command's subparsers."""
    rebuild = commands.add_parser(
        "rebuild", help="make the vectors again from the catalog (a lost or damaged index)"
    )
    rebuild.set_defaults(run=_rebuild)
    backup = commands.add_parser(
        "backup", help="copy catalog, vectors and uploads into DIR (while the app runs)"
    )
    backup.add_argument("folder", type=Path, metavar="DIR", help="a new or empty folder")
    backup.set_defaults(run=_backup)
    restore = commands.add_parser(
        "restore", help="replace what the store holds with the backup in DIR"
    )
    restore.add_argument("folder", type=Path, metavar="DIR", help="made by `copqa backup`")
    restore.set_defaults(run=_restore)


def open_store(settings: Settings) -> Store:
    """The store the settings name, opened without loading the embedding model's weights."""
    return Store.from_settings(settings, *_model(settings))


def _model(settings: Settings) -> tuple[str, int]:
    """The embedding model's identity and dimension, read from its files where they say."""
    from copqa.embedding import Embedder, model_dimension, model_identity

    model_path = settings.embedding.resolved_model_path()
    dimension = model_dimension(model_path)
    if dimension is None:  # a model folder that does not state it: load the model to know
        dimension = Embedder.from_settings(settings).dimension
    return model_identity(model_path), dimension


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from copqa.embedding import Embedder
    from copqa.store import rebuild

    embedder = Embedder.from_settings(settings)
    store = _open_or_set_aside(settings)
    try:
        with tqdm(desc="embedding", unit=" chunk", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            made = rebuild(store, embedder.embed_chunks, progress)
    finally:
        store.close()
    print(f"rebuilt {made} vectors from the catalog")
    return 0


def _open_or_set_aside(settings: Settings) -> Store:
    """The store; an embedded vector folder that cannot be opened is moved aside first."""
    from copqa.store import set_aside_damaged_vectors

    if not settings.chroma.url:
        aside = set_aside_damaged_vectors(settings.home, *_model(settings))
        if aside is not None:
            print(f"the vector folder could not be opened: set aside as {aside}")
    return open_store(settings)


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from copqa.community import COMMUNITY_TABLES
    from copqa.store import backup

    store = open_store(settings)
    try:
        manifest = backup(store, args.folder, COMMUNITY_TABLES)
    finally:
        store.close()
    print(
        f"backed up {manifest.rows['chunks']} chunks, {manifest.vectors} vectors and "
        f"{manifest.rows['accounts']} accounts into {args.folder}"
    )
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from copqa.community import COMMUNITY_TABLES
    from copqa.store import restore

    if not args.folder.is_dir():
        raise CopqaError(f"{args.folder} is not a folder")
    store = open_store(settings)
    try:
        manifest = restore(store, args.folder, COMMUNITY_TABLES)
    finally:
        store.close()
    print(f"restored {manifest.rows['chunks']} chunks and {manifest.vectors} vectors")
    return 0
