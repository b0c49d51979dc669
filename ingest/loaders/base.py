"""The one interface every loader implements."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from copqa.models import Document, LoadFailure


class Loader(Protocol):
    """Reads one source (a file, an export folder or an archive) into documents.

    A loader never raises for bad input inside a source it recognised: it yields a
    `LoadFailure` naming the file and the reason, and goes on with the rest.
    """

    kind: str

    def detect(self, path: Path) -> bool:
        """True when `path` looks like a source this loader reads."""
        ...

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        """Yield the source's documents (files or threads) and its per-file failures."""
        ...
