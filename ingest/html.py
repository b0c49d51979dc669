"""HTML: shared web pages as documents, and HTML bodies of posts as plain text."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from copqa.models import Document, LoadFailure, Section, stable_id
from ingest.document_meta import html_meta
from ingest.text import read_text

_DROPPED_TAGS = ("script", "style", "noscript", "template", "head", "svg")
_BLOCK_TAGS = (
    "p", "div", "li", "tr", "pre", "blockquote", "section", "article", "table", "ul", "ol",
    "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "hr",
)  # fmt: skip
_BLANK_RUNS = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment or page: scripts and styles dropped, links kept.

    A link whose label differs from its address keeps both, as ``label (url)``.
    """
    with warnings.catch_warnings():
        # A short post body can look like a file name to bs4; it is markup, not a path.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    for link in soup.find_all("a"):
        href = str(link.get("href") or "")
        label = link.get_text(" ", strip=True)
        if href.startswith(("http://", "https://")) and href != label:
            link.replace_with(f"{label} ({href})" if label else href)
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_BLOCK_TAGS):
        block.insert_after("\n\n")
    text = soup.get_text()
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_title(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    heading = soup.title or soup.find("h1")
    return heading.get_text(" ", strip=True) if heading else ""


class HtmlLoader:
    """A shared HTML page: its visible text, titled by <title> or its first <h1>."""

    kind = "html"
    suffixes = (".html", ".htm")

    def detect(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in self.suffixes

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        html = read_text(path)
        if isinstance(html, LoadFailure):
            yield html
            return
        text = html_to_text(html)
        if not text:
            yield LoadFailure(str(path), "no text in this HTML page")
            return
        author, created = html_meta(html)
        yield Document(
            id=stable_id("file", path.resolve()),
            kind=self.kind,
            title=html_title(html) or path.stem,
            path=str(path),
            author=author,
            created_at=created,
            sections=(Section(text=text),),
        )
