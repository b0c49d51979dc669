"""A thread without the posts of forgotten members, and without their names in the rest.

The pipeline filters every ingested thread with it, and forgetting (ingest/forgetting.py)
re-chunks the threads a member wrote in with it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Set
from functools import lru_cache

from copqa.models import Document

FORMER_MEMBER = "a former member"


def without_authors(document: Document, forgotten: Set[str]) -> Document | None:
    """The thread minus the posts of forgotten authors (by id or name); None if none is left.

    When the opening post goes, so do the title and author taken from it. Mentions of them
    (`@name`, `<@id>`) in the posts that stay read "a former member".
    """
    if not forgotten or not document.posts:
        return document
    kept = tuple(
        p for p in document.posts if p.author_id not in forgotten and p.author_name not in forgotten
    )
    if not kept:
        return None
    mention = _mention(frozenset(forgotten))
    scrubbed = tuple(
        dataclasses.replace(p, text=mention.sub(FORMER_MEMBER, p.text))
        if mention.search(p.text)
        else p
        for p in kept
    )
    if len(kept) == len(document.posts) and scrubbed == document.posts:
        return document
    if kept[0] is document.posts[0]:
        title = mention.sub(FORMER_MEMBER, document.title)
        return dataclasses.replace(document, posts=scrubbed, title=title)
    place = document.channel or document.kind
    return dataclasses.replace(document, posts=scrubbed, author="", title=f"Thread in {place}")


@lru_cache(maxsize=16)
def _mention(keys: frozenset[str]) -> re.Pattern[str]:
    """`@Jane Doe`, `@jane`, `<@U123>`: any key after an @, as a whole word, in any case."""
    names = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True) if k.strip())
    return re.compile(rf"<?@(?:{names})(?!\w)>?" if names else "(?!)", re.IGNORECASE)
