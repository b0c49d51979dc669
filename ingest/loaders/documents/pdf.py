"""PDF files through pypdf, one section a page so citations name the page."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from copqa.models import Document, LoadFailure, Section
from ingest.loaders.documents.document_meta import clean_author, parse_date
from ingest.loaders.documents.file_loader import FileLoader

# pypdf logs every font it cannot fully decode; the text still comes out.
logging.getLogger("pypdf").setLevel(logging.ERROR)

MIN_WORDS = 3  # fewer words than this in the whole file is no text layer, not a document
# A page that is an image with a few words stamped on it (a date, a page number) is a scan.
STAMP_WORDS = 10
NO_TEXT = "no extractable text (a scan without a text layer? run OCR on it first)"


class PdfLoader(FileLoader):
    kind = "pdf"
    suffixes = (".pdf",)

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        try:
            title, author, created, sections = _read(path)
        except _PdfRefused as refused:
            yield LoadFailure(str(path), str(refused))
            return
        if sum(len(s.text.split()) for s in sections) < MIN_WORDS:
            yield LoadFailure(str(path), NO_TEXT)
            return
        kept = [s for s in sections if s.text.strip()]
        yield self.document(path, title or path.stem, kept, author, created)


class _PdfRefused(Exception):
    pass


def _read(path: Path) -> tuple[str, str, int | None, list[Section]]:
    """The PDF's own title and author (or ""), its creation date, and its pages' text."""
    try:
        if path.stat().st_size == 0:
            raise _PdfRefused("empty file (0 bytes)")
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _PdfRefused("password-protected: remove the password and ingest it again")
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip()
            if len(text.split()) < STAMP_WORDS and _has_image(page):
                text = ""
            pages.append(Section(text=text, page=number))
        info = reader.metadata
        title = (info.title if info else None) or ""
        author = clean_author(info.author if info else "")
        return _usable_title(str(title)), author, _creation(reader), pages
    except _PdfRefused:
        raise
    except FileNotDecryptedError as exc:
        raise _PdfRefused("password-protected: remove the password and ingest it again") from exc
    except (PdfReadError, PdfStreamError) as exc:
        raise _PdfRefused(f"not a readable PDF (damaged or truncated): {exc}") from exc
    except OSError as exc:
        raise _PdfRefused(f"unreadable: {exc.strerror or exc}") from exc
    except Exception as exc:  # pypdf raises assorted types on damaged files
        raise _PdfRefused(f"not a readable PDF: {type(exc).__name__}: {exc}") from exc


def _creation(reader: PdfReader) -> int | None:
    try:
        created = reader.metadata.creation_date if reader.metadata else None
    except ValueError:  # a date string pypdf cannot parse: no date, not a broken file
        return None
    return parse_date(created) if created else None


_FILE_NAME = re.compile(r"\.[A-Za-z0-9]{2,4}$")


def _usable_title(title: str) -> str:
    """The metadata title unless it is a tool's leftover ("Binder1.pdf", "Untitled")."""
    title = title.strip().removeprefix("Microsoft Word - ")
    if len(title) < 3 or _FILE_NAME.search(title) or title.lower().startswith("untitled"):
        return ""
    return title


def _has_image(page: PageObject) -> bool:
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources else None
    if not xobjects:
        return False
    return any(
        xobject.get_object().get("/Subtype") == "/Image"
        for xobject in xobjects.get_object().values()
    )
