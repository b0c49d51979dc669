"""Finding the sources under the paths a user gives, and the loader for each."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from copqa.models import LoadFailure
from ingest.loaders import Loader


@dataclass(frozen=True)
class FoundSource:
    """A file or an export folder, and the loader that reads it."""

    path: Path
    loader: Loader


class SourceFinder:
    """Walks paths: an export folder is one source, any other folder is searched for files.

    `loaders` are tried in order, so discussion exports (recognised by their marker files)
    should come before the loaders that go by file suffix.
    """

    def __init__(self, loaders: Sequence[Loader]) -> None:
        self._loaders = list(loaders)

    def kinds(self) -> list[str]:
        return [loader.kind for loader in self._loaders]

    def find(self, path: Path, kind: str | None = None) -> Iterator[FoundSource | LoadFailure]:
        """Sources under `path`; a `LoadFailure` for what cannot be read or is not supported."""
        if kind is not None:
            yield from self._forced(path, kind)
            return
        if not path.exists():
            yield LoadFailure(str(path), "no such file or folder")
            return
        if path.is_file():
            yield _misnamed(path) or self._for_file(path)
            return
        yield from self._walk(path)

    def _forced(self, path: Path, kind: str) -> Iterator[FoundSource | LoadFailure]:
        for loader in self._loaders:
            if loader.kind == kind:
                yield FoundSource(path, loader)
                return
        yield LoadFailure(str(path), f"unknown kind {kind!r}: use one of {', '.join(self.kinds())}")

    def _walk(self, folder: Path) -> Iterator[FoundSource | LoadFailure]:
        export = self._detect(folder)
        if export is not None:
            yield FoundSource(folder, export)
            return
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield LoadFailure(str(folder), f"unreadable folder: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = Path(entry.path)
            if misnamed := _misnamed(child):
                yield misnamed
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(child)
            elif entry.is_file(follow_symlinks=False):
                found = self._for_file(child)
                if isinstance(found, FoundSource) or child.suffix:
                    # Files without a suffix (LICENSE, SOURCE...) are not documents: pass silently.
                    yield found

    def _for_file(self, path: Path) -> FoundSource | LoadFailure:
        loader = self._detect(path)
        if loader is None:
            return LoadFailure(str(path), f"unsupported file type {path.suffix or '(none)'!r}")
        return FoundSource(path, loader)

    def _detect(self, path: Path) -> Loader | None:
        return next((loader for loader in self._loaders if loader.detect(path)), None)


def fingerprint(path: Path, *context: str) -> str:
    """What a file or folder looks like from outside (names, sizes, modification times).

    Equal fingerprints mean nothing to re-read; `context` (settings that change what
    ingestion makes of the same files) is part of it.
    """
    digest = hashlib.sha256("\x1f".join(context).encode())
    for file in _files(path):
        stat = file.stat()
        name = file.relative_to(path).as_posix() if file != path else ""
        digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def file_sizes(path: Path) -> dict[str, int]:
    """The size in bytes of each file of a source (the file itself, or an export folder's)."""
    sizes: dict[str, int] = {}
    for file in _files(path):
        try:
            sizes[str(file)] = file.stat().st_size
        except OSError:  # gone or unreadable: its loader will say so
            continue
    return sizes


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def _misnamed(path: Path) -> LoadFailure | None:
    """A name that is not UTF-8 (kept by the file system as raw bytes) cannot become an id."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return LoadFailure(shown, "the file name is not UTF-8: rename the file")
    return None
