"""Everything the page serves, opened once from the settings, and who may do what."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import gradio as gr

from copqa import home as layout
from copqa.access import Reader
from copqa.assistant import Assistant
from copqa.community import Account, Accounts, ActivityLog, CommunityRecords, Library, reader_for
from copqa.models import SearchFilter
from copqa.settings import Settings
from ingest.factory import build_pipeline
from ingest.pipeline import IngestPipeline
from ingest.uploads import UploadDesk


@dataclass
class PageServices:
    """The assistant, the community's records and the uploads behind the page's tabs."""

    settings: Settings
    assistant: Assistant
    records: CommunityRecords
    pipeline: IngestPipeline
    library: Library
    desk: UploadDesk
    # Who each account reads as, at the store generation it was worked out for.
    _readers: dict[tuple[str, str], tuple[int, Reader]] = field(default_factory=dict)
    _readers_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings, assistant: Assistant) -> PageServices:
        store = assistant.store
        records = CommunityRecords.open(settings)
        pipeline = build_pipeline(settings, store, assistant.embedder, records.activity)
        store.settle()  # a forget a killed run left is finished before the page serves
        return cls(
            settings,
            assistant,
            records,
            pipeline,
            Library(store, store.home / layout.UPLOADS),
            UploadDesk(store.home, pipeline, int(settings.app.max_upload_mb * 2**20)),
        )

    def reader(self, account: Account) -> Reader:
        """Who `account` reads as now: its groups as the sources list them since their last ingest."""
        generation = self.assistant.store.generation()
        key = (account.name, account.role)
        with self._readers_lock:
            known = self._readers.get(key)
        if known is not None and known[0] == generation:
            return known[1]
        reader = reader_for(account, self.assistant.store, self.settings.members.aliases)
        with self._readers_lock:
            self._readers[key] = (generation, reader)
        return reader

    def readable(self, account: Account) -> SearchFilter:
        """The search filter of what `account` may read."""
        return SearchFilter(levels=self.reader(account).levels)

    @property
    def accounts(self) -> Accounts:
        return self.records.accounts

    @property
    def activity(self) -> ActivityLog:
        return self.records.activity

    def close(self) -> None:
        self.records.close()
        self.assistant.close()


def require(allowed: bool, what: str) -> None:
    """Refuse an event (and the same API endpoint) the session's account may not use."""
    if not allowed:
        raise gr.Error(f"Sign in as {what} to do this.", title="Not allowed")


def member_only(account: Account) -> None:
    require(account.can_upload, "a member")


def maintainer_only(account: Account) -> None:
    require(account.is_maintainer, "a maintainer")
