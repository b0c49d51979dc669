"""Every loader copqa has, in the order automatic detection tries them."""

from __future__ import annotations

from copqa.settings import SourceLinkSettings
from ingest.discord import DiscordExportLoader
from ingest.discourse import DiscourseLoader
from ingest.html import HtmlLoader
from ingest.jsonl import JsonlLoader
from ingest.loader import Loader
from ingest.markdown import MarkdownLoader
from ingest.mbox import MailingListLoader
from ingest.pdf import PdfLoader
from ingest.slack import SlackExportLoader
from ingest.stackexchange import StackExchangeDumpLoader
from ingest.text import TextLoader
from ingest.zulip import ZulipArchiveLoader


def all_loaders(links: SourceLinkSettings) -> list[Loader]:
    """Discussion exports first (recognised by their marker files), then files by suffix."""
    return [
        SlackExportLoader(workspace_url=links.slack_workspace_url),
        ZulipArchiveLoader(site_url=links.zulip_site_url),
        StackExchangeDumpLoader(site_url=links.stackexchange_site_url),
        DiscordExportLoader(),
        DiscourseLoader(site_url=links.discourse_site_url),
        MailingListLoader(archive_url=links.mailing_list_archive_url),
        JsonlLoader(),
        PdfLoader(),
        MarkdownLoader(),
        HtmlLoader(),
        TextLoader(),
    ]
