"""Keeping a store whole: rebuild its vectors from the catalog, back it up, restore it.

The catalog holds every text; the vector index is derived from it. A lost or damaged
index is therefore rebuilt by embedding the stored chunks again. A backup is the catalog's
rows, every vector and the uploaded files, copied under the writer lock: no ingestion or
deletion runs meanwhile, so the copy is consistent, and questions go on being answered.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from copqa import home as layout
from copqa.accounts import Accounts
from copqa.activity import ActivityLog
from copqa.catalog import Catalog
from copqa.chunk_metadata import flat_metadata
from copqa.database import Database, SQLiteDatabase
from copqa.errors import CopqaError, ModelMismatchError, StoreError
from copqa.forget_requests import ForgetRequests
from copqa.store import Store, embedding_text

# Every table copqa keeps, parents before children (the order rows are restored in).
TABLES = (
    "meta", "sources", "documents", "posts", "chunks", "forgotten",
    "runs", "questions", "feedback", "evaluations", "accounts", "forget_requests",
)  # fmt: skip
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
VECTOR_IDS = "vector_ids.json"
BATCH = 512

Progress = Callable[[int, int], None]
"""Called with (chunks done, chunks in all)."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, and the checksums that show it arrived whole."""

    created_at: int
    model: str
    dimension: int
    rows: dict[str, int]
    vectors: int
    checksums: dict[str, str]


def rebuild(store: Store, embed: Callable[[list[str]], np.ndarray], progress: Progress) -> int:
    """Make every vector again from the catalog's chunks; returns how many were made."""
    with store.exclusive():
        store.vectors.reset()
        store.changed()  # replicas searching the old collection open the new one
        total, done = store.counts().chunks, 0
        for batch in store.catalog.iter_chunks(BATCH):
            vectors = embed([embedding_text(c) for c in batch])
            store.vectors.upsert([c.id for c in batch], vectors, [flat_metadata(c) for c in batch])
            done += len(batch)
            progress(done, total)
        store.changed()
    return done


def backup(store: Store, folder: Path) -> Manifest:
    """Copy the store into `folder` (new or empty), consistent while the app runs."""
    if folder.exists() and any(folder.iterdir()):
        raise CopqaError(f"{folder} is not empty: back up into a new folder")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with store.exclusive():
        store.repair()
        copy = _open_copy(partial / layout.CATALOG)
        try:
            rows = {table: _copy_rows(store.database, copy, table) for table in TABLES}
        finally:
            copy.close()
        ids = _save_vectors(store, partial)
        missing = len(store.catalog.all_chunk_ids() - ids)
        if (store.home / layout.UPLOADS).is_dir():
            shutil.copytree(store.home / layout.UPLOADS, partial / layout.UPLOADS)
    if missing:
        shutil.rmtree(partial)
        raise StoreError(
            f"{missing} of the store's {rows['chunks']} chunks have no vector, so nothing was "
            "backed up: run `copqa rebuild` first"
        )
    manifest = Manifest(
        created_at=int(time.time()),
        model=store.model_identity,
        dimension=store.dimension,
        rows=rows,
        vectors=len(ids),
        checksums={name: _sha256(partial / name) for name in (layout.CATALOG, VECTORS, VECTOR_IDS)},
    )
    (partial / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2))
    if folder.exists():
        folder.rmdir()
    partial.rename(folder)
    return manifest


def restore(store: Store, folder: Path) -> Manifest:
    """Replace everything the store holds with the backup in `folder`."""
    manifest = read_manifest(folder)
    if manifest.model != store.model_identity:
        raise ModelMismatchError(
            f"the backup in {folder} was made with the embedding model {manifest.model!r}, "
            f"not {store.model_identity!r}: restore it with that model"
        )
    copy = SQLiteDatabase(folder / layout.CATALOG)
    try:
        with store.exclusive():
            _create_tables(store.database)
            generation = store.catalog.generation()
            with store.database.transaction():
                for table in reversed(TABLES):
                    store.database.execute(f"DELETE FROM {table}")
                for table in TABLES:
                    _copy_rows(copy, store.database, table)
                store.database.reset_identities(TABLES)
                # Past any generation the replicas saw, so each reloads what it keeps.
                store.catalog.set_meta("generation", str(generation + 1))
            store.vectors.reset()
            ids = json.loads((folder / VECTOR_IDS).read_text())
            matrix = np.load(folder / VECTORS, mmap_mode="r")
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                chunks = store.catalog.chunks_by_id(batch)
                metadata = [flat_metadata(chunks[cid]) for cid in batch]
                store.vectors.upsert(batch, np.asarray(matrix[start : start + BATCH]), metadata)
            shutil.rmtree(store.home / layout.UPLOADS, ignore_errors=True)
            if (folder / layout.UPLOADS).is_dir():
                shutil.copytree(folder / layout.UPLOADS, store.home / layout.UPLOADS)
            store.changed()
    finally:
        copy.close()
    return manifest


def read_manifest(folder: Path) -> Manifest:
    """The backup's manifest, once every file it lists matches its checksum."""
    try:
        manifest = Manifest(**json.loads((folder / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise CopqaError(f"{folder} holds no copqa backup ({exc})") from exc
    for name, checksum in manifest.checksums.items():
        if not (folder / name).is_file() or _sha256(folder / name) != checksum:
            raise CopqaError(f"the backup in {folder} is damaged: {name} does not match")
    return manifest


def _open_copy(path: Path) -> Database:
    """An empty SQLite catalog with every copqa table."""
    copy = SQLiteDatabase(path)
    _create_tables(copy)
    return copy


def _create_tables(database: Database) -> None:
    """Each table's owner creates what is missing of its tables."""
    Catalog(database)
    ActivityLog(database)
    Accounts(database)
    ForgetRequests(database)


def _copy_rows(source: Database, target: Database, table: str) -> int:
    """Every row of `table` from one database into the other, a batch at a time."""
    columns = sorted(source.columns(table) & target.columns(table))
    if not columns:  # a backup made before this table existed
        return 0
    names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
    rows = iter(source.execute(f"SELECT {names} FROM {table}"))
    copied = 0
    while batch := list(itertools.islice(rows, 1000)):
        target.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
        copied += len(batch)
    return copied


def _save_vectors(store: Store, folder: Path) -> set[str]:
    """Every vector into `VECTORS`, its id at the same index in `VECTOR_IDS`."""
    total = store.vectors.count()
    matrix = np.lib.format.open_memmap(
        folder / VECTORS, mode="w+", dtype=np.float32, shape=(total, store.dimension)
    )
    ids: list[str] = []
    for page_ids, page in store.vectors.pages():
        matrix[len(ids) : len(ids) + len(page_ids)] = page
        ids += page_ids
    matrix.flush()
    (folder / VECTOR_IDS).write_text(json.dumps(ids))
    return set(ids)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
