"""Everything the page serves, opened once from the settings, and who may do what."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from copqa import home as layout
from copqa.accounts import Account, Accounts
from copqa.activity import ActivityLog
from copqa.assistant import Assistant
from copqa.library import Library
from copqa.settings import Settings
from ingest.factory import build_pipeline
from ingest.uploads import UploadDesk


@dataclass
class Community:
    """The assistant and the stores behind the page's tabs."""

    settings: Settings
    assistant: Assistant
    accounts: Accounts
    library: Library
    desk: UploadDesk

    @classmethod
    def open(cls, settings: Settings, assistant: Assistant) -> Community:
        store = assistant.store
        pipeline = build_pipeline(settings, store, assistant.embedder)
        store.settle()  # a forget a killed run left is finished before the page serves
        return cls(
            settings,
            assistant,
            Accounts(store.database),
            Library(store, store.home / layout.UPLOADS),
            UploadDesk(store.home, pipeline, int(settings.app.max_upload_mb * 2**20)),
        )

    @property
    def activity(self) -> ActivityLog:
        return self.assistant.store.activity

    def close(self) -> None:
        self.assistant.close()


def require(allowed: bool, what: str) -> None:
    """Refuse an event (and the same API endpoint) the session's account may not use."""
    if not allowed:
        raise gr.Error(f"Sign in as {what} to do this.", title="Not allowed")


def member_only(account: Account) -> None:
    require(account.can_upload, "a member")


def maintainer_only(account: Account) -> None:
    require(account.is_maintainer, "a maintainer")
