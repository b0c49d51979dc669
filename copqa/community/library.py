"""The library: every source the store holds, searchable, and deletable by those allowed to.

A member may delete what they uploaded; a maintainer may delete anything. Deleting a
source removes its chunks and vectors, and an uploaded file's stored copy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from copqa.access import MAINTAINER, Reader
from copqa.community.accounts import Account
from copqa.errors import AccessDeniedError, StoreError
from copqa.store import DELETE_BATCH, LibraryEntry, Store


@dataclass(frozen=True)
class Shelf:
    """What the library shows of a source."""

    entry: LibraryEntry
    name: str  # a file's name, or an export's folder name

    @property
    def source_id(self) -> str:
        return self.entry.source_id


class Library:
    def __init__(self, store: Store, uploads: Path, delete_batch: int = DELETE_BATCH) -> None:
        """A library over `store`; `delete_batch`: chunks a deletion removes per transaction."""
        self._store = store
        self._uploads = uploads.resolve()
        self._delete_batch = delete_batch

    def shelves(self, reader: Reader, search: str = "", kind: str = "") -> list[Shelf]:
        """Sources whose name, title, uploader or channels contain `search`, of `kind` if given.

        As `reader` sees them: only what they may read is counted, named and searched.
        """
        needle = search.strip().casefold()
        found = []
        for entry in self._store.library(reader.levels):
            shelf = Shelf(entry, Path(entry.locator).name)
            haystack = " ".join(
                (shelf.name, entry.title, entry.uploader, entry.kind, *entry.channels)
            )
            if (not kind or entry.kind == kind) and needle in haystack.casefold():
                found.append(shelf)
        return found

    def may_delete(self, account: Account, entry: LibraryEntry) -> bool:
        if account.is_maintainer:
            return True
        return account.can_upload and bool(entry.uploader) and entry.uploader == account.name

    def delete(self, source_id: str, account: Account) -> Shelf:
        """Delete one source for `account`.

        Raises:
            AccessDeniedError: The account may not delete it.
            StoreError: No such source.
        """
        shelf = next((s for s in self.shelves(MAINTAINER) if s.source_id == source_id), None)
        if shelf is None:
            raise StoreError(f"no source with id {source_id!r}: it may be deleted already")
        if not self.may_delete(account, shelf.entry):
            raise AccessDeniedError(
                "only the member who uploaded a source, or a maintainer, may delete it"
            )
        self._store.delete_source(source_id, self._delete_batch)
        located = Path(shelf.entry.locator).resolve()
        if self._uploads in located.parents:
            # uploads/<content hash>/<file>: the hash folder goes, so the file may come again.
            folder = self._uploads / located.relative_to(self._uploads).parts[0]
            shutil.rmtree(folder, ignore_errors=True)
        return shelf
