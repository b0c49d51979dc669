"""What the document loaders share: a file is theirs by its suffix, and becomes one Document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from copqa.models import Document, Section, stable_id


class FileLoader:
    """A loader of one kind of file; subclasses set `kind` and `suffixes` and write `load`."""

    kind: str
    suffixes: tuple[str, ...]

    def detect(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in self.suffixes

    def document(
        self,
        path: Path,
        title: str,
        sections: Sequence[Section],
        author: str = "",
        created_at: int | None = None,
    ) -> Document:
        """The file as a Document, its id stable for the file's resolved path."""
        return Document(
            id=stable_id("file", path.resolve()),
            kind=self.kind,
            title=title,
            path=str(path),
            author=author,
            created_at=created_at,
            sections=tuple(sections),
        )
