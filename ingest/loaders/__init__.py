"""The loaders: documents (PDF, HTML, Markdown, text) and discussion exports, found by `all_loaders`."""

from ingest.loaders.archive import iter_zip_members
from ingest.loaders.base import Loader
from ingest.loaders.discussions.export_files import loads_json
from ingest.loaders.discussions.jsonl import jsonl_document_id
from ingest.loaders.documents.markdown import MarkdownLoader
from ingest.loaders.registry import all_loaders

__all__ = [
    "Loader",
    "MarkdownLoader",
    "all_loaders",
    "iter_zip_members",
    "jsonl_document_id",
    "loads_json",
]
