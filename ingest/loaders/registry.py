"""Every loader copqa has, in the order automatic detection tries them."""

from __future__ import annotations

from copqa.settings import SourceLinkSettings
from ingest.loaders.base import Loader
from ingest.loaders.discussions.discord import DiscordExportLoader
from ingest.loaders.discussions.discourse import DiscourseLoader
from ingest.loaders.discussions.jsonl import JsonlLoader
from ingest.loaders.discussions.mbox import MailingListLoader
from ingest.loaders.discussions.slack import SlackExportLoader
from ingest.loaders.discussions.stackexchange import StackExchangeDumpLoader
from ingest.loaders.discussions.zulip import ZulipArchiveLoader
from ingest.loaders.documents.html import HtmlLoader
from ingest.loaders.documents.markdown import MarkdownLoader
from ingest.loaders.documents.pdf import PdfLoader
from ingest.loaders.documents.text import TextLoader


def all_loaders(links: SourceLinkSettings, *, direct_messages: bool = False) -> list[Loader]:
    """Discussion exports first (recognised by their marker files), then files by suffix.

    Args:
        links: Where each community's posts live online, for citation links.
        direct_messages: Ingest Slack DMs and group DMs, each for its members only
            (`IngestSettings.direct_messages`); otherwise they are left out and reported.
    """
    return [
        SlackExportLoader(workspace_url=links.slack_workspace_url, direct_messages=direct_messages),
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
