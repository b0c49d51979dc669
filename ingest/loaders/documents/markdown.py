"""Markdown files, split along their headings so each chunk knows its section."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from llama_index.core import Document as LlamaDocument
from llama_index.core.node_parser import MarkdownNodeParser

from copqa.models import Document, LoadFailure, Section
from ingest.loaders.documents.document_meta import markdown_meta
from ingest.loaders.documents.file_loader import FileLoader
from ingest.loaders.documents.text import read_text

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_TABLE_PADDING = re.compile(r"(?<=\|) {2,}| {2,}(?=\|)")
_TABLE_RULE = re.compile(r"^\|[\s:|-]*-[\s:|-]*\|$", re.MULTILINE)
_FIRST_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


class MarkdownLoader(FileLoader):
    kind = "markdown"
    suffixes = (".md", ".markdown")

    def __init__(self) -> None:
        self._parser = MarkdownNodeParser(include_metadata=True, include_prev_next_rel=False)

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        raw = read_text(path)
        if isinstance(raw, LoadFailure):
            yield raw
            return
        text = _compact_tables(_FRONT_MATTER.sub("", raw)).strip()
        if not text:
            yield LoadFailure(str(path), "empty file: no text to ingest")
            return
        sections = self._sections(text)
        if not sections:
            yield LoadFailure(str(path), "no text to ingest: headings only")
            return
        heading = _FIRST_HEADING.search(text)
        author, created = markdown_meta(raw)
        title = heading.group(1) if heading else path.stem.replace("_", " ")
        yield self.document(path, title, sections, author, created)

    def _sections(self, text: str) -> tuple[Section, ...]:
        nodes = self._parser.get_nodes_from_documents([LlamaDocument(text=text)])
        sections = []
        for node in nodes:
            body = node.get_content().strip()
            if body and not (body.startswith("#") and "\n" not in body):  # a bare heading
                sections.append(Section(text=body, heading=_heading_of(node.metadata, body)))
        return tuple(sections)


def _compact_tables(text: str) -> str:
    """Tables without their alignment padding and rule rows, which cost word pieces, not meaning."""
    lines = [
        _TABLE_PADDING.sub(" ", line) if line.lstrip().startswith("|") else line
        for line in text.splitlines()
    ]
    return _TABLE_RULE.sub("|---|", "\n".join(lines))


def _heading_of(metadata: dict[str, object], body: str) -> str:
    """The section's heading path, e.g. "Guide / Installing / On Windows"."""
    parents = [p for p in str(metadata.get("header_path", "")).split("/") if p]
    first_line = body.splitlines()[0]
    own = first_line.lstrip("#").strip() if first_line.startswith("#") else ""
    return " / ".join([*parents, own] if own else parents)
