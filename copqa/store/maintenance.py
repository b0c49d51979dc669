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
from copqa.errors import CopqaError, ModelMismatchError, StoreError
from copqa.models import Chunk
from copqa.store.access_levels import AccessLevels
from copqa.store.catalog import Catalog
from copqa.store.chroma import ChromaVectors
from copqa.store.chunk_metadata import flat_metadata
from copqa.store.database import Database, SQLiteDatabase
from copqa.store.forget_requests import ForgetRequests
from copqa.store.store import Store

# The store's own tables, parents before children (the order rows are restored in).
STORE_TABLES = (
    "meta", "sources", "documents", "posts", "chunks", "forgotten", "forget_requests",
    "access_groups",
)  # fmt: skip
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
VECTOR_IDS = "vector_ids.json"
BATCH = 512

Progress = Callable[[int, int], None]
"""Called with (chunks done, chunks in all)."""


@dataclass(frozen=True)
class SharedTables:
    """Tables another stage keeps in the catalog's database, backed up and restored with it.

    Attributes:
        names: The tables, parents before children.
        create: Creates whichever of them are missing in a database.
    """

    names: tuple[str, ...]
    create: Callable[[Database], None]


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, and the checksums that show it arrived whole."""

    created_at: int
    model: str
    dimension: int
    rows: dict[str, int]
    vectors: int
    checksums: dict[str, str]


def rebuild(store: Store, embed: Callable[[list[Chunk]], np.ndarray], progress: Progress) -> int:
    """Make every vector again from the catalog's chunks; returns how many were made."""
    with store.exclusive():
        store._vectors.reset()
        store.changed()  # replicas searching the old collection open the new one
        total, done = store.counts().chunks, 0
        for batch in store._catalog.iter_chunks(BATCH):
            vectors = embed(batch)
            store._vectors.upsert([c.id for c in batch], vectors, [flat_metadata(c) for c in batch])
            done += len(batch)
            progress(done, total)
        store.changed()
    return done


def backup(store: Store, folder: Path, shared: SharedTables) -> Manifest:
    """Copy the store and the `shared` tables into `folder` (new or empty).

    Consistent while the app runs: the copy is made under the writer lock.
    """
    if folder.exists() and any(folder.iterdir()):
        raise CopqaError(f"{folder} is not empty: back up into a new folder")
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with store.exclusive():
        store.repair()
        copy = SQLiteDatabase(partial / layout.CATALOG)
        try:
            tables = _create_tables(copy, shared)
            rows = {table: _copy_rows(store._database, copy, table) for table in tables}
        finally:
            copy.close()
        ids = _save_vectors(store, partial)
        missing = len(store._catalog.all_chunk_ids() - ids)
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


def restore(store: Store, folder: Path, shared: SharedTables) -> Manifest:
    """Replace everything the store and the `shared` tables hold with the backup in `folder`."""
    manifest = read_manifest(folder)
    if manifest.model != store.model_identity:
        raise ModelMismatchError(
            f"the backup in {folder} was made with the embedding model {manifest.model!r}, "
            f"not {store.model_identity!r}: restore it with that model"
        )
    copy = SQLiteDatabase(folder / layout.CATALOG)
    try:
        with store.exclusive():
            tables = _create_tables(store._database, shared)
            generation = store._catalog.generation()
            with store._database.transaction():
                for table in reversed(tables):
                    store._database.execute(f"DELETE FROM {table}")
                for table in tables:
                    _copy_rows(copy, store._database, table)
                store._database.reset_identities(tables)
                # Past any generation the replicas saw, so each reloads what it keeps.
                store._catalog.set_meta("generation", str(generation + 1))
            store._vectors.reset()
            ids = json.loads((folder / VECTOR_IDS).read_text())
            matrix = np.load(folder / VECTORS, mmap_mode="r")
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                chunks = store._catalog.chunks_by_id(batch)
                metadata = [flat_metadata(chunks[cid]) for cid in batch]
                store._vectors.upsert(batch, np.asarray(matrix[start : start + BATCH]), metadata)
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


def _create_tables(database: Database, shared: SharedTables) -> tuple[str, ...]:
    """Each table's owner creates what is missing of its tables; returns them all, parents first."""
    Catalog(database)
    ForgetRequests(database)
    AccessLevels(database)
    shared.create(database)
    return (*STORE_TABLES, *shared.names)


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
    total = store._vectors.count()
    matrix = np.lib.format.open_memmap(
        folder / VECTORS, mode="w+", dtype=np.float32, shape=(total, store.dimension)
    )
    ids: list[str] = []
    for page_ids, page in store._vectors.pages():
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


def set_aside_damaged_vectors(home: Path, model_identity: str, dimension: int) -> Path | None:
    """Move an embedded vector folder that cannot be opened aside; returns where, if it was."""
    folder = home / layout.VECTORS
    if not folder.is_dir():
        return None
    try:
        ChromaVectors.open(folder, model_identity, dimension).close()
    except StoreError:
        aside = folder.with_name(f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.move(folder, aside)
        return aside
    return None
