"""The store: the catalog (system of record), the vectors and the keyword index, behind `Store`."""

from copqa.store.catalog import read_library
from copqa.store.database import Database, catalog_exists, open_database
from copqa.store.keyword_index import KeywordIndex
from copqa.store.maintenance import (
    SharedTables,
    backup,
    rebuild,
    restore,
    set_aside_damaged_vectors,
)
from copqa.store.records import LibraryEntry, MemberRecord, SourceRecord
from copqa.store.store import DELETE_BATCH, PreparedDocument, Store

__all__ = [
    "DELETE_BATCH",
    "Database",
    "KeywordIndex",
    "LibraryEntry",
    "MemberRecord",
    "PreparedDocument",
    "SharedTables",
    "SourceRecord",
    "Store",
    "backup",
    "catalog_exists",
    "open_database",
    "read_library",
    "rebuild",
    "restore",
    "set_aside_damaged_vectors",
]
