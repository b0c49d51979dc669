"""Plain-text files, and the decoding every text-based loader shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from charset_normalizer import from_bytes

from copqa.models import Document, LoadFailure, Section
from ingest.loaders.documents.file_loader import FileLoader


class UndecodableText(Exception):
    """The bytes are not text in any encoding we can tell."""


def decode_text(raw: bytes) -> str:
    """UTF-8 first (with or without a BOM), then Windows-1252, then the best guess.

    Text that is not UTF-8 is, in practice, mostly Western European Windows or Latin-1
    text; guessing among all encodings misreads short files of it (è as č).
    """
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UndecodableText("binary data, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        best = from_bytes(raw).best()
        if best is None:
            raise UndecodableText("not text in any known encoding (re-save it as UTF-8)") from None
        return str(best)


def read_text(path: Path) -> str | LoadFailure:
    """A file's text, or a `LoadFailure` saying why it cannot be had (unreadable, binary, empty)."""
    try:
        text = decode_text(path.read_bytes())
    except OSError as exc:
        return LoadFailure(str(path), f"unreadable: {exc.strerror or exc}")
    except UndecodableText as exc:
        return LoadFailure(str(path), str(exc))
    if not text.strip():
        return LoadFailure(str(path), "empty file: no text to ingest")
    return text


class TextLoader(FileLoader):
    """A `.txt` (or `.rst`) file as one section; the splitter cuts it along paragraphs."""

    kind = "text"
    suffixes = (".txt", ".text", ".rst")

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        text = read_text(path)
        if isinstance(text, LoadFailure):
            yield text
            return
        title = path.stem.replace("_", " ").replace("-", " ")
        yield self.document(path, title, [Section(text=text.strip())])
