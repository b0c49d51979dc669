"""The members' tabs: Upload documents, and the Library of every source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from copqa.access import MAINTAINERS, MEMBERS, PUBLIC
from copqa.community import Account
from copqa.errors import ConfigError, CopqaError
from copqa.models import DISCUSSION_KINDS, DOCUMENT_KINDS
from ingest.uploads import Upload
from ui import render
from ui.page_cache import discard
from ui.services import PageServices, member_only

ACCEPTED = [".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".zip"]
WRITES = "store-writes"  # uploads and deletions queue one at a time
LIBRARY_HEADERS = [
    "Name", "Kind", "Uploaded by / channels", "Updated", "Documents", "Passages", "Who may read",
]  # fmt: skip


def build_upload_tab(services: PageServices, account: gr.State) -> Any:
    """The Upload tab's contents; returns the upload event, for the library to follow."""
    limit = services.settings.app.max_upload_mb
    gr.Markdown(
        f"Share PDF, Markdown, text or HTML files (up to {limit:g} MB each). They are credited "
        "to you and become citable right away. Maintainers may also upload a discussion "
        "export as a `.zip`."
    )
    files = gr.File(
        label="Documents", file_count="multiple", file_types=ACCEPTED, elem_id="upload-files"
    )
    visibility = gr.Radio(
        label="Who may read them",
        choices=[
            ("Members (signed in)", MEMBERS),
            ("Everyone, guests too", PUBLIC),
            ("Maintainers only", MAINTAINERS),
        ],
        value=MEMBERS,
        elem_id="upload-visibility",
    )
    add = gr.Button("Add to the library", variant="primary", elem_id="upload-button")
    report = gr.Markdown(elem_id="upload-report", latex_delimiters=render.NO_MATHS)

    def upload(
        paths: list[str] | None,
        level: str | None,
        who: Account,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (how Gradio is asked for a progress bar)
    ) -> tuple[None, str]:
        try:
            member_only(who)
            uploads = [Upload(Path(p), Path(p).name) for p in paths or []]
            progress(0, desc="Checking the files")

            def on_file(done: int, total: int, name: str) -> None:
                progress((done, total), desc=f"Reading {name}", unit="files")

            try:
                received = services.desk.receive(
                    uploads,
                    who.name,
                    access=level or MEMBERS,
                    allow_exports=who.is_maintainer,
                    on_file=on_file,
                )
            except ConfigError as exc:
                raise gr.Error(str(exc)) from exc
        finally:
            # Gradio's copies, accepted, refused or not allowed: the library keeps its own.
            discard(paths or [], Path(get_upload_folder()))
        summary = render.upload_report_markdown(
            received.added, received.present, received.refused, received.chunks
        )
        return None, summary

    return add.click(
        upload, [files, visibility, account], [files, report],
        api_name="upload", concurrency_limit=1, concurrency_id=WRITES,
    )  # fmt: skip


def build_library_tab(services: PageServices, account: gr.State) -> tuple[Any, Any]:
    """The Library tab's contents; returns (refresh function, its outputs) for other events."""
    with gr.Row():
        search = gr.Textbox(label="Search", placeholder="name, title, member or channel", scale=3)
        kind = gr.Dropdown(
            label="Kind",
            choices=["", *sorted(DOCUMENT_KINDS), *sorted(DISCUSSION_KINDS)],
            value="",
            scale=1,
        )
    table = gr.Dataframe(
        headers=LIBRARY_HEADERS,
        interactive=False,
        wrap=True,
        latex_delimiters=render.NO_MATHS,
        elem_id="library-table",
    )
    with gr.Row():
        # Any value reaches `remove`, which checks who may delete it (the one gate).
        doomed = gr.Dropdown(
            label="Source to delete",
            choices=[],
            allow_custom_value=True,
            scale=4,
            elem_id="delete-choice",
        )
        delete = gr.Button("Delete", variant="stop", scale=1, elem_id="delete-button")
    outcome = gr.Markdown(latex_delimiters=render.NO_MATHS)

    def listing(query: str, wanted: str, who: Account) -> tuple[Any, Any]:
        member_only(who)
        shelves = services.library.shelves(services.reader(who), query or "", wanted or "")
        deletable = [
            (f"{s.name} ({s.entry.kind})", s.source_id)
            for s in shelves
            if services.library.may_delete(who, s.entry)
        ]
        return (
            render.library_rows(shelves),
            gr.Dropdown(choices=deletable, value=None),
        )

    def remove(source_id: str | None, who: Account) -> str:
        member_only(who)
        if not source_id:
            return "Choose a source to delete first."
        try:
            shelf = services.library.delete(source_id, who)
        except CopqaError as exc:
            raise gr.Error(str(exc)) from exc
        return f"Deleted **{render.markdown_text(shelf.name)}** and its passages."

    inputs = [search, kind, account]
    search.submit(listing, inputs, [table, doomed], api_name="library")
    kind.change(listing, inputs, [table, doomed], api_visibility="private")
    delete.click(
        remove, [doomed, account], [outcome], api_name="delete",
        concurrency_limit=1, concurrency_id=WRITES,
    ).then(listing, inputs, [table, doomed], api_visibility="private")  # fmt: skip
    return listing, (inputs, [table, doomed])
