"""HTML: shared web pages as documents, and HTML bodies of posts as plain text."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import (
    BeautifulSoup,
    CData,
    MarkupResemblesLocatorWarning,
    NavigableString,
    PageElement,
    Tag,
)

from copqa.models import Document, LoadFailure, Section
from ingest.loaders.documents.document_meta import html_meta
from ingest.loaders.documents.file_loader import FileLoader
from ingest.loaders.documents.text import read_text

_DROPPED_TAGS = ("script", "style", "noscript", "template", "head", "svg")
_BLOCK_TAGS = (
    "p", "div", "li", "tr", "pre", "blockquote", "section", "article", "table", "ul", "ol",
    "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "hr",
)  # fmt: skip
_BLANK_RUNS = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_TEXT_TYPES = (NavigableString, CData)  # what get_text() reads
_SCHEME = re.compile(r"^https?://")


@dataclass(frozen=True)
class QuoteMarkup:
    """How a chat marks a quote of another member's post inside a post.

    Attributes:
        tag: The element around the quote (``blockquote``, ``aside``).
        css_class: A class that element must have ("" for any).
        title_class: The class of a line inside it that only names who is quoted (left out).
    """

    tag: str
    css_class: str = ""
    title_class: str = ""

    def quotes(self, node: Tag) -> bool:
        return node.name == self.tag and (not self.css_class or self.css_class in _classes(node))

    def titles(self, node: Tag) -> bool:
        return bool(self.title_class) and self.title_class in _classes(node)


def _classes(node: Tag) -> list[str]:
    value = node.get("class")
    return list(value) if isinstance(value, list) else str(value or "").split()


def html_to_text(html: str, quotes: QuoteMarkup | None = None) -> str:
    """Visible text of an HTML fragment or page: scripts and styles dropped, links kept.

    A link reads as its label, where the reader saw it; when the label is not the address
    itself, the address follows at the end of the paragraph, as ``(label: url)``. Words
    quoted from the page, as anyone copies them, stay whole in the text.

    Args:
        quotes: How the chat marks a quote of another member (a quote-reply). Those words
            stay, for search, as `> ` lines: in a thread they are never quoted as the
            poster's own (`copqa.sentences.passage_sentences`).
    """
    return _soup_text(_parsed(html), quotes)


def _parsed(html: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        # A short post body can look like a file name to bs4; it is markup, not a path.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(html, "html.parser")


def _soup_text(soup: Tag, quotes: QuoteMarkup | None = None) -> str:
    text = "\n".join(_tidy_lines("".join(_visible_pieces(soup, quotes))))
    return _BLANK_RUNS.sub("\n\n", text).strip()


def _tidy_lines(text: str) -> list[str]:
    """Each line with its runs of spaces as one, and no space at either end."""
    return [_SPACES.sub(" ", line).strip() for line in text.splitlines()]


def _visible_pieces(root: Tag, quotes: QuoteMarkup | None = None) -> list[str]:
    """The page's text in reading order, with line breaks for `<br>` and after blocks.

    One walk with an explicit stack rather than editing the tree: a hostile page of
    100,000 nested tags would otherwise exhaust recursion, or take hours, since each
    tree edit costs time in proportion to the nesting depth.
    """
    pieces: list[str] = []
    link: _Link | None = None  # the outermost http(s) link being read
    addresses: list[str] = []  # of the paragraph's links, written where it ends
    stack: list[PageElement | _TagEnd | _QuoteEnd] = list(reversed(root.contents))
    quoting = False  # inside a quote of another member (one level: a quote in it is its text)
    while stack:
        node = stack.pop()
        if isinstance(node, _QuoteEnd):
            _write_addresses(pieces, addresses)
            pieces[node.start :] = ["\n\n", _as_quote("".join(pieces[node.start :])), "\n\n"]
            quoting = False
        elif isinstance(node, _TagEnd):
            if link is not None and link.tag is node.tag:
                addresses += link.close(pieces)
                link = None
            if node.tag.name in _BLOCK_TAGS:
                _write_addresses(pieces, addresses)
                pieces.append("\n\n")
        elif isinstance(node, Tag):
            if node.name in _DROPPED_TAGS or (quoting and quotes and quotes.titles(node)):
                continue
            if quotes and not quoting and quotes.quotes(node):
                quoting = True
                stack.append(_QuoteEnd(len(pieces)))
            if node.name == "br":
                pieces.append("\n")
                continue
            href = str(node.get("href") or "") if node.name == "a" else ""
            if link is None and href.startswith(("http://", "https://")):
                link = _Link(node, href, len(pieces))
            stack.append(_TagEnd(node))
            stack.extend(reversed(node.contents))
        elif type(node) in _TEXT_TYPES:  # not comments, doctypes or ruby annotations
            text = str(node)
            pieces.append(text)
            if link is not None and text.strip():
                link.label.append(text.strip())
    _write_addresses(pieces, addresses)
    return pieces


def _write_addresses(pieces: list[str], addresses: list[str]) -> None:
    if addresses:
        pieces.append(f" ({'; '.join(addresses)})")
        addresses.clear()


def _as_quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in _tidy_lines(text) if line)


@dataclass(frozen=True)
class _QuoteEnd:
    """Where a quote of another member ends in the walk; its text began at piece `start`."""

    start: int


@dataclass(frozen=True)
class _TagEnd:
    """Where a tag's content ends in the walk."""

    tag: Tag


@dataclass
class _Link:
    """A link being read: its label stays in the text, its address is noted for later."""

    tag: Tag
    href: str
    start: int  # its first piece
    label: list[str] = field(default_factory=list)

    def close(self, pieces: list[str]) -> list[str]:
        """The address to write after the paragraph, as `label: url`; none for a bare one."""
        label = " ".join(self.label)
        if not label:
            pieces[self.start :] = [self.href]
            return []
        if label.rstrip("/") in (self.href.rstrip("/"), _SCHEME.sub("", self.href).rstrip("/")):
            return []
        return [f"{label}: {self.href}"]


def html_title(page: str | BeautifulSoup) -> str:
    """The page's <title>, else its first <h1>; "" when it has neither."""
    soup = _parsed(page) if isinstance(page, str) else page
    heading = soup.title or soup.find("h1")
    return heading.get_text(" ", strip=True) if heading else ""


class HtmlLoader(FileLoader):
    """A shared HTML page: its visible text, titled by <title> or its first <h1>."""

    kind = "html"
    suffixes = (".html", ".htm")

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        html = read_text(path)
        if isinstance(html, LoadFailure):
            yield html
            return
        soup = _parsed(html)  # once: a hostile page can take seconds to parse
        title = html_title(soup)
        author, created = html_meta(soup)
        text = _soup_text(soup)
        if not text:
            yield LoadFailure(str(path), "no text in this HTML page")
            return
        yield self.document(path, title or path.stem, [Section(text=text)], author, created)
