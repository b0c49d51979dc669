"""The community's own records, kept in the catalog's database beside the store's tables.

Accounts and the activity log (ingestion runs, questions, feedback, evaluations) open their
own connection to that database; backups and restores carry their tables with the store's.
"""

from __future__ import annotations

from types import TracebackType

from copqa.community.accounts import Accounts
from copqa.community.activity import ActivityLog
from copqa.settings import Settings
from copqa.store import Database, SharedTables, open_database


def _create_tables(database: Database) -> None:
    ActivityLog(database)
    Accounts(database)


COMMUNITY_TABLES = SharedTables(
    ("runs", "questions", "feedback", "evaluations", "accounts"), _create_tables
)


class CommunityRecords:
    """Accounts and activity of the community under `settings.home`; close when done."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.accounts = Accounts(database)
        self.activity = ActivityLog(database)

    @classmethod
    def open(cls, settings: Settings) -> CommunityRecords:
        database = open_database(settings.home, settings.catalog)
        try:
            return cls(database)
        except BaseException:
            database.close()
            raise

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> CommunityRecords:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
