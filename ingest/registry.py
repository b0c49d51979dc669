"""Every loader copqa has, in the order automatic detection tries them."""

from __future__ import annotations

from ingest.html import HtmlLoader
from ingest.loader import Loader
from ingest.markdown import MarkdownLoader
from ingest.pdf import PdfLoader
from ingest.text import TextLoader


def all_loaders() -> list[Loader]:
    """Discussion exports first (they are recognised by marker files), then files by suffix."""
    return [PdfLoader(), MarkdownLoader(), HtmlLoader(), TextLoader()]
