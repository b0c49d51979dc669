"""Uploads: typed by content, stored under COPQA_HOME with safe names, each with a verdict."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from copqa.errors import UnreadableSourceError
from copqa.home import UPLOADS
from ingest.uploads import Upload, UploadDesk, safe_name, sniff
from tests.support.files import write_files

BLADES = "# Bandsaw blades\n\nSpare bandsaw blades live in the blue drawer under the bench.\n"


@pytest.fixture
def desk(settings, pipeline) -> UploadDesk:
    return UploadDesk(settings.home, pipeline, max_bytes=2_000_000)


def _uploads(folder: Path, files: dict[str, str | bytes]) -> list[Upload]:
    write_files(folder, files)
    return [Upload(folder / name, name) for name in files]


def test_documents_are_added_credited_and_stored_under_home(desk, store, settings, tmp_path):
    report = desk.receive(
        _uploads(tmp_path / "in", {"blades.md": BLADES, "notes.txt": "Glue-up clamps hang on the east wall."}),
        "bob",
    )  # fmt: skip
    assert report.added == ["blades.md", "notes.txt"] and report.refused == []
    stored = sorted(
        p.relative_to(settings.home.resolve()) for p in (settings.home / UPLOADS).rglob("*.*")
    )
    assert [p.parts[0] for p in stored] == [UPLOADS, UPLOADS]
    assert {p.name for p in stored} == {"blades.md", "notes.txt"}
    assert {s.uploader for s in store.sources()} == {"bob"}


def test_the_same_content_under_another_name_is_already_present(desk, tmp_path):
    desk.receive(_uploads(tmp_path / "a", {"blades.md": BLADES}), "bob")
    again = desk.receive(_uploads(tmp_path / "b", {"copy of blades.md": BLADES}), "cleo")
    assert again.present == ["copy of blades.md"] and again.added == []


def test_type_is_decided_by_content_and_every_refusal_says_why(desk, store, tmp_path, shared_data):
    scanned = (shared_data / "pdfs/scanned_no_text/skew.pdf").read_bytes()
    report = desk.receive(
        _uploads(tmp_path / "in", {
            "photo.pdf": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
            "binary.txt": bytes(range(256)) * 8,
            "huge.md": "word " * 500_000,
            "empty.md": "",
            "scan.pdf": scanned,
            "export.zip": b"PK\x03\x04" + b"\x00" * 40,
            "good.md": BLADES,
        }),
        "bob",
    )  # fmt: skip
    refused = dict(report.refused)
    assert refused["photo.pdf"] == "unsupported type: this is a PNG image, not a document"
    assert refused["binary.txt"].startswith("unsupported type: not a PDF, Markdown, text or HTML")
    assert "upload limit" in refused["huge.md"]
    assert refused["empty.md"] == "empty file"
    assert "no extractable text" in refused["scan.pdf"]
    assert "maintainers" in refused["export.zip"]
    assert report.added == ["good.md"]
    # What was refused left nothing behind: one stored file, one source.
    assert len(store.sources()) == 1
    assert [p.name for p in desk.folder.rglob("*") if p.is_file()] == ["good.md"]


def test_names_cannot_escape_the_uploads_folder(desk, tmp_path):
    source = write_files(tmp_path / "in", {"x.md": BLADES}) / "x.md"
    report = desk.receive([Upload(source, "../../../etc/.bashrc.md")], "bob")
    assert report.added == [".bashrc.md"]
    [stored] = [p for p in desk.folder.rglob("*") if p.is_file()]
    assert desk.folder in stored.parents and stored.name == "bashrc.md"


@pytest.mark.parametrize(
    ("given", "safe"),
    [("../../x.pdf", "x.pdf"), ("Café menu (v2).md", "Cafe-menu-v2-.md"), (".env", "env"),
     ("<script>.md", "script-.md"), ("", "upload"), ("a" * 300 + ".md", "a" * 100)],
)  # fmt: skip
def test_safe_names(given, safe):
    assert safe_name(given.rsplit("/", 1)[-1]) == safe


def test_html_and_markdown_are_told_apart_from_plain_text(tmp_path):
    files = write_files(tmp_path, {"page.txt": "<!DOCTYPE html><html><body>hi</body></html>",
                                   "a.md": "# Title", "a.txt": "just text"})  # fmt: skip
    assert sniff(files / "page.txt", "page.txt") == "html"
    assert sniff(files / "a.md", "a.md") == "markdown"
    assert sniff(files / "a.txt", "a.txt") == "text"
    with pytest.raises(UnreadableSourceError):
        sniff(write_files(tmp_path, {"latin1.txt": "café".encode("latin-1")}) / "latin1.txt", "x")


def _slack_zip(folder: Path, shared_data: Path, extra: dict[str, str]) -> Path:
    """A real (small) Slack export: its users, channels and one day of #c-study-group."""
    archive = io.BytesIO()
    slack = shared_data / "r-contributors/slack"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in ("users.json", "channels.json"):
            zipped.write(slack / name, f"export/{name}")
        day = sorted((slack / "c-study-group").glob("*.json"))[0]
        zipped.write(day, f"export/c-study-group/{day.name}")
        for name, text in extra.items():
            zipped.writestr(name, text)
    return write_files(folder, {"slack.zip": archive.getvalue()}) / "slack.zip"


def test_a_maintainers_zip_export_is_unpacked_and_ingested(desk, store, tmp_path, shared_data):
    upload = _slack_zip(tmp_path, shared_data, {})
    refused = desk.receive([Upload(upload, "slack.zip")], "cleo", allow_exports=False)
    assert refused.added == [] and "maintainers" in refused.refused[0][1]

    report = desk.receive([Upload(upload, "slack.zip")], "ada", allow_exports=True)
    assert report.added == ["slack.zip"] and report.refused == []
    [source] = store.sources()
    assert source.kind == "slack" and source.uploader == "ada"
    assert store.counts().posts > 0


def test_a_zip_slip_export_is_refused_whole_and_writes_nothing(desk, store, tmp_path, shared_data):
    upload = _slack_zip(tmp_path, shared_data, {"../../escape.txt": "outside"})
    report = desk.receive([Upload(upload, "slack.zip")], "ada", allow_exports=True)
    assert report.added == []
    assert "points outside the archive" in report.refused[0][1]
    assert not list(desk.folder.rglob("*.txt")) and not (tmp_path / "escape.txt").exists()
    assert store.sources() == []
