"""Document loaders on real PDFs and small real files: text, pages, headings, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from copqa.models import Document, LoadFailure
from ingest.loaders.documents.html import HtmlLoader, html_to_text
from ingest.loaders.documents.markdown import MarkdownLoader
from ingest.loaders.documents.pdf import NO_TEXT, PdfLoader
from ingest.loaders.documents.text import TextLoader
from tests.support.files import write_files


def load_one(loader, path: Path) -> Document | LoadFailure:
    items = list(loader.load(path))
    assert len(items) == 1
    return items[0]


def test_text_pdf_keeps_page_numbers(shared_data: Path) -> None:
    document = load_one(
        PdfLoader(), shared_data / "pdfs/text_layer/federal-register-2020-17221.pdf"
    )
    assert isinstance(document, Document)
    assert [s.page for s in document.sections] == list(range(1, 16))
    assert "Federal Register" in document.sections[0].text


def test_ocr_layer_pdf_is_ingested(shared_data: Path) -> None:
    path = shared_data / "pdfs/scanned_no_text/Seige_of_Vicksburg_Sample_OCR-has-ocr-text-layer.pdf"
    document = load_one(PdfLoader(), path)
    assert isinstance(document, Document)
    assert document.title == path.stem  # its metadata title, "Binder1.pdf", is a leftover
    assert "Vicksburg" in " ".join(s.text for s in document.sections)


@pytest.mark.parametrize("name", ["c02-22.pdf", "grayscale-image.pdf", "linn.pdf", "skew.pdf"])
def test_scans_are_refused_as_without_text(shared_data: Path, name: str) -> None:
    failure = load_one(PdfLoader(), shared_data / "pdfs/scanned_no_text" / name)
    assert failure == LoadFailure(str(shared_data / "pdfs/scanned_no_text" / name), NO_TEXT)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty-0-bytes.pdf", "empty file"),
        ("invalid-header-then-eof.pdf", "not a readable PDF"),
        ("libreoffice-writer-password.pdf", "password-protected"),
        ("password-example.pdf", "password-protected"),
        # An image of a page with a date stamped on it: a scan, whatever its structure.
        ("malformed-from-issue-932.pdf", "no extractable text"),
    ],
)
def test_broken_pdfs_are_named_with_a_reason(shared_data: Path, name: str, reason: str) -> None:
    failure = load_one(PdfLoader(), shared_data / "pdfs/bad_input" / name)
    assert isinstance(failure, LoadFailure)
    assert failure.error.startswith(reason)


def test_markdown_is_split_along_headings(tmp_path: Path) -> None:
    folder = write_files(
        tmp_path,
        {
            "guide.md": "---\nlayout: page\n---\n# Laser guide\n\nIntro text here.\n\n"
            "## Materials\n\nNever cut PVC: it releases chlorine gas.\n\n"
            "### Acrylic\n\nCast acrylic engraves white.\n"
        },
    )
    document = load_one(MarkdownLoader(), folder / "guide.md")
    assert isinstance(document, Document)
    assert document.title == "Laser guide"
    headings = [s.heading for s in document.sections]
    assert headings == [
        "Laser guide",
        "Laser guide / Materials",
        "Laser guide / Materials / Acrylic",
    ]
    assert "layout: page" not in " ".join(s.text for s in document.sections)


def test_html_drops_scripts_and_styles(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Booking</title><style>p{color:red}</style></head><body>"
        "<h1>Tool booking</h1><p>Book two days ahead.<script>alert('x')</script></p>"
        '<p>See <a href="https://example.org/rules">the rules</a>.</p></body></html>'
    )
    document = load_one(HtmlLoader(), write_files(tmp_path, {"b.html": page}) / "b.html")
    assert isinstance(document, Document)
    assert document.title == "Booking"
    text = document.sections[0].text
    assert "Book two days ahead." in text
    assert "See the rules. (the rules: https://example.org/rules)" in text
    assert "alert" not in text and "color:red" not in text


def test_html_to_text_keeps_lines_and_paragraphs() -> None:
    html = "<p>one<br>two <b>bold</b>er</p><ul><li>three</li><li>four</li></ul>"
    assert html_to_text(html) == "one\ntwo bolder\n\nthree\n\nfour"


def test_a_link_reads_as_its_label_and_its_address_follows_the_paragraph() -> None:
    html = (
        '<p>There is a prototype in the <a href="https://git.example/ODA">ODA hooks</a>, '
        'see <a href="https://www.example.org/">www.example.org</a> or '
        '<a href="https://x.example/a"></a>.</p><p>Next <a href="https://b.example">b</a></p>'
    )
    assert html_to_text(html) == (
        "There is a prototype in the ODA hooks, see www.example.org or https://x.example/a. "
        "(ODA hooks: https://git.example/ODA)\n\nNext b (b: https://b.example)"
    )


def test_text_in_latin1_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("Café rules: the crème brûlée torch stays in bay 2.".encode("latin-1"))
    document = load_one(TextLoader(), path)
    assert isinstance(document, Document)
    assert "crème brûlée" in document.sections[0].text


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"), (b"\x00\x01\x02binary\x00" * 10, "binary data")],
)
def test_unusable_text_files_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    failure = load_one(TextLoader(), path)
    assert isinstance(failure, LoadFailure)
    assert failure.error.startswith(reason)


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    failure = load_one(MarkdownLoader(), tmp_path / "vanished.md")
    assert isinstance(failure, LoadFailure)
    assert failure.error.startswith("unreadable")


def test_documents_say_who_wrote_them_and_when(tmp_path: Path) -> None:
    from tests.support.paths import REPO

    files = write_files(tmp_path, {
        "guide.md": "---\ntitle: Guide\nauthor: 'Priya Raman'\ndate: 2025-05-12\n---\n# Guide\n\nDry PETG first.\n",
        "plain.md": "# Plain\n\nNo front matter here at all.\n",
        "page.html": '<html><head><title>Booking</title><meta name="author" content="Wen Halvorsen">'
                     '<meta property="article:published_time" content="2025-03-04T10:00:00Z"></head>'
                     "<body><p>Book the lathe a day ahead.</p></body></html>",
        "odd.html": "<html><head><meta name='date' content='last tuesday'></head><body><p>Text "
                    "here.</p><time datetime='2024-12-01'>1 Dec</time></body></html>",
    })  # fmt: skip
    guide = load_one(MarkdownLoader(), files / "guide.md")
    assert (guide.author, guide.created_at) == ("Priya Raman", 1747008000)
    assert "author:" not in guide.sections[0].text
    plain = load_one(MarkdownLoader(), files / "plain.md")
    assert (plain.author, plain.created_at) == ("", None)
    page = load_one(HtmlLoader(), files / "page.html")
    assert (page.author, page.created_at) == ("Wen Halvorsen", 1741082400)
    odd = load_one(HtmlLoader(), files / "odd.html")
    assert (odd.author, odd.created_at) == ("", 1733011200)  # an unreadable date is skipped
    minutes = load_one(PdfLoader(), REPO / "sample/docs/meeting-minutes-2025-09.pdf")
    assert (minutes.author, minutes.created_at) == ("Wen Halvorsen", 1758099600)
