"""Files members upload through the page: checked, stored under `COPQA_HOME`, ingested.

A file's type is decided by its content, not its name: a PDF starts with `%PDF-`, HTML
and text must decode, anything else is refused. Each accepted file is stored as
`uploads/<content hash>/<safe name>`, so the same file uploaded twice (under any name)
is recognised as already present, and no uploaded name can reach outside the folder.
A maintainer's zip (a discussion export) is unpacked there through `SafeZip`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from copqa import home as layout
from copqa.access import MEMBERS, parse_level
from copqa.errors import UnreadableSourceError
from ingest.loaders import iter_zip_members
from ingest.pipeline import IngestPipeline

DOCUMENT_SUFFIXES = {"pdf": ".pdf", "html": ".html", "markdown": ".md", "text": ".txt"}
_MARKDOWN_NAMES = (".md", ".markdown", ".mdx", ".rmd", ".qmd")
_SNIFF_BYTES = 4096
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)
_KNOWN_BINARY = {  # magic bytes of what people upload by mistake, to say what it is
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
}


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it: where it sits now, and the name the member gave it."""

    path: Path
    name: str


@dataclass
class UploadReport:
    """What became of each uploaded file, by the name the member gave it."""

    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # the same content was already here
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    chunks: int = 0


class UploadDesk:
    """Receives uploads for one store: type and size checks, safe storage, ingestion."""

    def __init__(self, home: Path, pipeline: IngestPipeline, max_bytes: int) -> None:
        self.folder = home.resolve() / layout.UPLOADS
        self._pipeline = pipeline
        self._max_bytes = max_bytes

    def receive(
        self,
        uploads: Sequence[Upload],
        uploader: str,
        *,
        access: str = MEMBERS,
        allow_exports: bool = False,
        on_file: Callable[[int, int, str], None] | None = None,
    ) -> UploadReport:
        """Check, store and ingest the files; every file ends up added, present or refused.

        `access`: who may read them, as the uploader chose (`copqa.access`; members by
        default). `on_file(done, total, name)` is called before each file is ingested.

        Raises:
            ConfigError: `access` is not a level.
        """
        access = parse_level(access)
        report = UploadReport()
        stored: dict[Path, str] = {}  # stored path -> the member's name for it
        for upload in uploads:
            name = PurePosixPath(upload.name.replace("\\", "/")).name or "upload"
            try:
                target = self._store(upload.path, name, allow_exports)
            except UnreadableSourceError as refusal:
                report.refused.append((name, str(refusal)))
                continue
            if target is None:
                report.present.append(name)
            else:
                stored[target] = name
        for done, (target, name) in enumerate(stored.items()):
            if on_file is not None:
                on_file(done, len(stored), name)
            # One ingestion per upload, so each gets its own verdict.
            ingested = self._pipeline.ingest([target], uploader=uploader, access=access)
            report.chunks += ingested.chunks
            errors = list(dict.fromkeys(f.error for f in ingested.failed))
            if ingested.added + ingested.updated == 0:
                report.refused.append((name, "; ".join(errors) or "nothing to read in it"))
                shutil.rmtree(target.parent, ignore_errors=True)
                continue
            report.added.append(name)
            for failure in ingested.failed:  # parts of an export that could not be read
                part = os.path.relpath(failure.path, target)
                report.refused.append((f"{name}: {part}", failure.error))
        return report

    def _store(self, source: Path, name: str, allow_exports: bool) -> Path | None:
        """Where the checked file now lives under uploads/, or None when it already did."""
        try:
            size = source.stat().st_size
        except OSError as exc:  # e.g. the page's copy of it is gone already
            raise UnreadableSourceError("the file did not arrive whole: send it again") from exc
        if size > self._max_bytes:
            limit = self._max_bytes / 2**20
            raise UnreadableSourceError(f"larger than the {limit:g} MB upload limit")
        if size == 0:
            raise UnreadableSourceError("empty file")
        kind = sniff(source, name)
        if kind == "zip" and not allow_exports:
            raise UnreadableSourceError("discussion exports (zip) are uploaded by maintainers")
        digest = _sha256(source)
        folder = self.folder / digest[:24]
        if folder.exists():
            return None
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            if kind == "zip":
                _unpack(source, partial / safe_name(Path(name).stem), 10 * self._max_bytes)
            else:
                shutil.copyfile(source, partial / _with_suffix(safe_name(name), kind))
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        partial.rename(folder)
        return next(folder.iterdir())


def sniff(path: Path, name: str) -> str:
    """The upload's type by its content: pdf, html, markdown, text or zip.

    Raises:
        UnreadableSourceError: Anything else, saying what it seems to be.
    """
    with path.open("rb") as file:
        head = file.read(_SNIFF_BYTES)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    for magic, what in _KNOWN_BINARY.items():
        if head.startswith(magic):
            raise UnreadableSourceError(f"unsupported type: this is {what}, not a document")
    if b"\x00" in head or not _decodes(path):
        raise UnreadableSourceError(
            "unsupported type: not a PDF, Markdown, text or HTML file (binary or not UTF-8 text)"
        )
    if _HTML_START.match(head):
        return "html"
    return "markdown" if name.lower().endswith(_MARKDOWN_NAMES) else "text"


def safe_name(name: str) -> str:
    """A file name that is only letters, digits, `._-`, never hidden, at most 100 characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("-", ascii_name).strip("-.")[:100].strip("-.")
    return cleaned or "upload"


def _with_suffix(name: str, kind: str) -> str:
    """The name with the suffix its content calls for (the loaders go by suffix)."""
    suffix = DOCUMENT_SUFFIXES[kind]
    if kind == "markdown" and name.lower().endswith(_MARKDOWN_NAMES):
        return name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'upload'}{suffix}"


def _decodes(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(2**20):
            digest.update(piece)
    return digest.hexdigest()


def _unpack(archive: Path, folder: Path, max_total_bytes: int) -> None:
    """Write a zip's files under `folder`: names made safe part by part, bombs refused."""
    for member, data in iter_zip_members(archive, max_total_bytes=max_total_bytes):
        parts = [safe_name(p) for p in PurePosixPath(member).parts if p not in ("", ".", "..")]
        if not parts or parts[0] == "__MACOSX":
            continue
        target = folder.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if not folder.exists():
        raise UnreadableSourceError("the zip archive holds no files")
