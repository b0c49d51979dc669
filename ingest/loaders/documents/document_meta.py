"""Who wrote a shared document, and when, as the document itself says.

PDF: the info dictionary's author and creation date. HTML: `<meta name="author">` and a
date meta (`date`, `dc.date`, `article:published_time`) or a `<time datetime>`.
Markdown: `author:` and `date:` lines of a YAML front matter block. Missing or unreadable
values are simply left out: a citation then names the file alone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from bs4 import BeautifulSoup

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_KEY_VALUE = re.compile(r"^(\w[\w-]*):\s*(.+?)\s*$", re.MULTILINE)
_DATE_METAS = ("date", "dc.date", "dcterms.date", "article:published_time", "last-modified")
MAX_AUTHOR_CHARS = 120


def parse_date(value: object) -> int | None:
    """An ISO date or datetime (or a `datetime`) as epoch seconds, UTC when no zone is given."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().strip("'\"").replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def clean_author(value: object) -> str:
    """One line, without YAML list or quote marks; "" for nothing usable."""
    text = " ".join(str(value or "").split()).strip("[]'\" ")
    return text[:MAX_AUTHOR_CHARS]


def markdown_meta(text: str) -> tuple[str, int | None]:
    """(author, date) from a front matter block at the top of a Markdown file."""
    block = _FRONT_MATTER.match(text)
    if block is None:
        return "", None
    fields = {key.lower(): value for key, value in _KEY_VALUE.findall(block.group(1))}
    author = fields.get("author") or fields.get("authors") or ""
    return clean_author(author), parse_date(fields.get("date", ""))


def html_meta(page: str | BeautifulSoup) -> tuple[str, int | None]:
    """(author, date) from an HTML page's head (its text, or the page already parsed)."""
    soup = BeautifulSoup(page, "html.parser") if isinstance(page, str) else page
    metas = {
        str(tag.get("name") or tag.get("property") or "").lower(): str(tag.get("content") or "")
        for tag in soup.find_all("meta")
    }
    created = next((parse_date(metas[n]) for n in _DATE_METAS if metas.get(n)), None)
    if created is None and (moment := soup.find("time", attrs={"datetime": True})) is not None:
        created = parse_date(moment.get("datetime"))
    return clean_author(metas.get("author", "")), created
