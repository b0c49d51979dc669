"""Exports read from a folder or, safely and in memory, from a zip of it.

An export shared as a `.zip` is untrusted input, and nothing of it is ever extracted
or written. `SafeZip` refuses an archive before decompressing anything when its
headers show a member that would land outside the archive (an absolute path or a `..`
part: "zip slip") or a zip bomb (too much data in total, or a member inflating far
more than any real export does). While reading, the same limits are enforced again on
the bytes actually produced, in bounded pieces, so a lying header cannot get past them.

`open_export` gives loaders one view of an export's files, from a folder or a zip.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Protocol

from copqa.errors import UnreadableSourceError
from copqa.models import LoadFailure
from ingest.loaders.discussions.export_files import loads_json

GIB = 1024**3
DEFAULT_MAX_TOTAL_BYTES = 2 * GIB
DEFAULT_MAX_RATIO = 200
# Below this size a member cannot hurt, and small repetitive files (a padded JSON
# file, an empty log) legitimately compress far better than 200:1.
RATIO_CHECK_MIN_BYTES = 1024**2
_PIECE_BYTES = 1024**2
# bzip2 and lzma decompressors take no output bound, so one read could inflate
# without limit; deflate and stored members can be read in bounded pieces.
_BOUNDED_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveError(UnreadableSourceError):
    """A zip archive, or one of its members, that cannot be read."""


class UnsafeArchiveError(ArchiveError):
    """A zip archive refused for safety: a path outside the archive or a zip bomb."""


class SafeZip:
    """A zip archive whose headers were checked, with bounded in-memory reads.

    Args:
        path: The `.zip` file.
        max_total_bytes: Refuse archives that inflate to more than this in total.
        max_ratio: Refuse members (of at least `RATIO_CHECK_MIN_BYTES`) that inflate
            more than this many times their compressed size.

    Raises:
        UnsafeArchiveError: A member name escapes the archive, or the sizes exceed
            the limits.
        ArchiveError: The file is not a readable zip archive.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
        max_ratio: int = DEFAULT_MAX_RATIO,
    ) -> None:
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ArchiveError(f"not a readable zip archive: {exc}") from exc
        try:
            self._members = _checked_members(self._zip, max_total_bytes, max_ratio)
        except ArchiveError:
            self._zip.close()
            raise
        self._budget = max_total_bytes

    @property
    def names(self) -> tuple[str, ...]:
        """The file members' names (directories left out), in archive order."""
        return tuple(self._members)

    def read(self, name: str) -> bytes:
        """The bytes of one member, inflated in bounded pieces.

        Every read counts against the archive's total limit, reading a member twice
        included.

        Raises:
            UnsafeArchiveError: The member inflates past its declared size or past
                what is left of the archive's total limit.
            ArchiveError: The member is missing, encrypted or corrupt.
        """
        info = self._members.get(name)
        if info is None:
            raise ArchiveError(f"{name}: no such member in {self.path}")
        pieces: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as stream:
                while piece := stream.read(_PIECE_BYTES):
                    size += len(piece)
                    # zipfile stops at the declared size itself; the limits should not
                    # rest on that alone.
                    if size > info.file_size:
                        raise UnsafeArchiveError(f"{name}: inflates past its declared size")
                    if size > self._budget:
                        raise UnsafeArchiveError(f"{name}: archive inflates past its size limit")
                    pieces.append(piece)
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            RuntimeError,  # how zipfile reports an encrypted member
            NotImplementedError,  # patched data or strong encryption
        ) as exc:
            raise ArchiveError(f"{name}: unreadable member: {exc}") from exc
        self._budget -= size
        return b"".join(pieces)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def iter_zip_members(
    path: Path,
    wanted: Callable[[str], bool] | None = None,
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> Iterator[tuple[str, bytes]]:
    """Yield `(name, bytes)` for each file member (those `wanted` accepts), in memory.

    Raises:
        UnsafeArchiveError: See `SafeZip`; raised before any member is inflated when
            the headers give it away, or while reading otherwise.
        ArchiveError: The archive or a member is unreadable.
    """
    with SafeZip(path, max_total_bytes=max_total_bytes, max_ratio=max_ratio) as archive:
        for name in archive.names:
            if wanted is None or wanted(name):
                yield name, archive.read(name)


class ExportFiles(Protocol):
    """The files of an export, named by `/`-separated paths relative to its top folder."""

    names: tuple[str, ...]

    def read(self, name: str) -> bytes:
        """The bytes of one file (`OSError` or `ArchiveError` when unreadable)."""
        ...

    def where(self, name: str) -> str:
        """The file's location for people: a path, or the archive's path joined to it."""
        ...

    def close(self) -> None: ...


def open_export(path: Path, marker: str) -> ExportFiles:
    """The files of an export folder, or of a zip holding one.

    In a zip, the export's top folder is the shallowest one holding a file named
    `marker` (the archive's root when none does), since people zip either the
    folder itself or its contents.

    Raises:
        OSError: The folder cannot be listed.
        ArchiveError: The zip is unreadable or unsafe (see `SafeZip`).
    """
    return _ZipExport(path, marker) if path.is_file() else _FolderExport(path)


def read_json(export: ExportFiles, name: str, expected: type) -> tuple[Any, LoadFailure | None]:
    """One JSON file of an export: its value when it is an `expected`, else why not.

    Raises:
        UnsafeArchiveError: The archive is unsafe; nothing more of it should be read.
    """
    try:
        data = loads_json(export.read(name))
    except UnsafeArchiveError:
        raise
    except (OSError, ArchiveError) as exc:
        return None, LoadFailure(export.where(name), f"unreadable: {exc}")
    except UnicodeDecodeError as exc:
        return None, LoadFailure(export.where(name), f"not UTF-8 text: {exc}")
    except ValueError as exc:
        return None, LoadFailure(export.where(name), f"malformed JSON: {exc}")
    if not isinstance(data, expected):
        return None, LoadFailure(export.where(name), f"expected a JSON {expected.__name__}")
    return data, None


class _FolderExport:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.names = tuple(
            p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file()
        )

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def where(self, name: str) -> str:
        return str(self.root / name)

    def close(self) -> None:
        """Nothing is held open between reads."""


class _ZipExport:
    def __init__(self, path: Path, marker: str) -> None:
        self.path = path
        self._zip = SafeZip(path)
        markers = [n for n in self._zip.names if PurePosixPath(n).name == marker]
        top = min(markers, key=lambda n: (n.count("/"), n), default=marker)
        self._prefix = top.removesuffix(marker)
        self.names = tuple(
            n.removeprefix(self._prefix) for n in self._zip.names if n.startswith(self._prefix)
        )

    def read(self, name: str) -> bytes:
        return self._zip.read(self._prefix + name)

    def where(self, name: str) -> str:
        return str(self.path / (self._prefix + name))

    def close(self) -> None:
        self._zip.close()


def _checked_members(
    archive: zipfile.ZipFile, max_total_bytes: int, max_ratio: int
) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in archive.infolist():
        name = info.filename
        if _is_unsafe_name(name):
            raise UnsafeArchiveError(
                f"member {name!r} points outside the archive (absolute path or '..')"
            )
        if info.is_dir():
            continue
        if info.compress_type not in _BOUNDED_METHODS:
            raise UnsafeArchiveError(
                f"member {name!r} uses compression method {info.compress_type};"
                " only stored and deflate members are read"
            )
        total += info.file_size
        if total > max_total_bytes:
            raise UnsafeArchiveError(
                f"member {name!r} would expand to {_size(info.file_size)}: the archive inflates"
                f" to more than {max_total_bytes} bytes ({_size(max_total_bytes)}),"
                " its limit (zip bomb?)"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_CHECK_MIN_BYTES and ratio > max_ratio:
            raise UnsafeArchiveError(
                f"member {name!r} inflates {ratio:.0f} times its compressed size"
                f" (limit {max_ratio}; zip bomb?)"
            )
        members[name] = info
    return members


def _size(size: int) -> str:
    """Bytes for people: "3.2 GB", "640.0 kB"."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _is_unsafe_name(name: str) -> bool:
    """True when a member name is absolute or climbs out of the archive with `..`."""
    posix = name.replace("\\", "/")
    return posix.startswith("/") or bool(_DRIVE.match(posix)) or ".." in posix.split("/")
