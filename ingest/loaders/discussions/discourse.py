"""Discourse: saved API responses (`.json`), merged into one thread per topic.

What counts as knowledge here is a post's whole body (`cooked` HTML). It is found in:

- topic responses (`/t/{id}.json`, `/t/{id}/posts.json`): `post_stream.posts`;
- latest posts (`/posts.json`): `latest_posts`;
- a single post (`/posts/{id}.json`): the response itself.

Topic lists (`/latest.json`, `/top.json`, category lists), search results and user
actions hold only titles and excerpts that repeat opening posts, so they are not read.
A topic's posts may come from several files (pages of a long topic, a post also seen in
the latest posts): posts are merged by topic id and deduplicated by post id, which are
stable across responses, so each post appears once. Moderator actions and small actions
("This topic is now pinned"), staff whispers, and hidden or deleted posts are left out.

Who may read a topic is what the responses say of its category (`category_id` of a topic
response or a latest post): category objects (`/categories.json`'s
`category_list.categories`, `/c/{id}/show.json`'s `category`, `/site.json`'s `categories`,
a topic's `details.suggested_topics[].category`, and their `subcategory_list`) carry
`read_restricted`, and may carry `group_permissions` (`[{"group_name", "permission_type"}]`,
each type allowing to read) naming the groups that may read it. A group's members come from its saved
`/groups/{name}/members.json` response (`{"members": [{"id", "username", "name"}],
"owners": [...]}`), kept where the API path puts it: `groups/<name>/members.json` in the
folder. So a topic is:

- `access == ""` (the source's level applies) when its category is not read-restricted,
  or no response describes it;
- `group:<category name>`, read by the members of every permitted group, when its category
  is read-restricted and each permitted group's members are saved;
- `maintainers` when its category is read-restricted and who may read it is not all there
  (no `group_permissions`, or a group without its members), and for a personal message
  (`"archetype": "private_message"`).

A category any copy marks read-restricted is, though another copy (an older one) says not.
"""

from __future__ import annotations

import itertools
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copqa.access import GROUP, MAINTAINERS
from copqa.models import Document, LoadFailure, Post, stable_id
from ingest.loaders.discussions.export_files import opening_line, read_json_file
from ingest.loaders.documents.html import QuoteMarkup, html_to_text

_MARKER_KEY = re.compile(rb'[{,]\s*"(?:post_stream|topic_list|latest_posts)"\s*:')
_MARKER_BYTES = 262_144  # the marker keys open a response; no need to read further
_MAX_FILES_TO_DETECT = 50
_REGULAR_POST = 1  # post_type; 2-4 are moderator actions, small actions and whispers
_LIKE_ACTION = 2  # actions_summary id of "like"
# A quoted post, <aside class="quote" data-username=...>: its author's words, not the quoter's.
QUOTE_REPLY = QuoteMarkup("aside", "quote", title_class="title")


@dataclass
class _Topic:
    """A topic being gathered from the responses that mention it."""

    path: str
    title: str = ""
    slug: str = ""
    accepted_post_number: int | None = None
    category_id: int | None = None
    personal: bool = False  # a personal message (`archetype` "private_message")
    posts: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Category:
    """What the responses say of a category: its name, and who may read it."""

    name: str = ""
    read_restricted: bool = False
    groups: tuple[str, ...] | None = None  # from `group_permissions`; None: not given


class DiscourseLoader:
    """Saved Discourse API responses: a `.json` file or a folder of them."""

    kind = "discourse"

    def __init__(self, site_url: str = "") -> None:
        """Create a loader.

        Args:
            site_url: the forum's address (e.g. ``https://meta.discourse.org``), used to link
                every post. When empty it is taken from an absolute internal link in the
                responses, if any; without it posts have no URL.
        """
        self.site_url = site_url.rstrip("/")

    def detect(self, path: Path) -> bool:
        try:
            if path.is_dir():
                files = itertools.islice(sorted(path.glob("*.json")), _MAX_FILES_TO_DETECT)
                return any(_has_marker(f) for f in files)
            return path.suffix.lower() == ".json" and _has_marker(path)
        except OSError:
            return False

    def load(self, path: Path) -> Iterator[Document | LoadFailure]:
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        topics: dict[int, _Topic] = {}
        categories: dict[int, _Category] = {}
        site_url = self.site_url
        for file in files:
            try:
                data = read_json_file(file)
            except ValueError as exc:
                yield LoadFailure(str(file), str(exc))
                continue
            _gather(data, str(file), topics)
            _gather_categories(data, categories)
            site_url = site_url or _internal_site_url(data)
        members, failures = _group_members(path) if path.is_dir() else ({}, [])
        yield from failures
        site = urllib.parse.urlsplit(site_url).netloc.lower()
        for topic_id, topic in sorted(topics.items()):
            document = self._document(topic_id, topic, site_url, site)
            if document is not None:
                access, readers = _topic_access(topic, categories, members)
                yield replace(document, access=access, readers=readers)

    def _document(self, topic_id: int, topic: _Topic, site_url: str, site: str) -> Document | None:
        raws = sorted(
            (p for p in topic.posts.values() if _is_knowledge(p)),
            key=lambda p: (_epoch(p.get("created_at")) or 0, _post_number(p) or 0, p["id"]),
        )
        topic_url = _topic_url(site_url, topic.slug, topic_id) if site_url else ""
        ids_by_number = {_post_number(p): stable_id(self.kind, site, p["id"]) for p in raws}
        posts = []
        for raw in raws:
            text = html_to_text(_text(raw.get("cooked")), quotes=QUOTE_REPLY)
            if not text:
                continue
            number = _post_number(raw)
            user_id = raw.get("user_id")
            username = _text(raw.get("username"))
            posts.append(
                Post(
                    id=stable_id(self.kind, site, raw["id"]),
                    author_id=_text(user_id) or username,
                    author_name=_text(raw.get("name")).strip() or username,
                    text=text,
                    created_at=_epoch(raw.get("created_at")),
                    url=f"{topic_url}/{number}" if topic_url and number else "",
                    reply_to=ids_by_number.get(_post_number(raw, "reply_to_post_number")),
                    # Discourse's own accounts (system, discobot) have negative ids.
                    is_bot=isinstance(user_id, int) and user_id < 0,
                    accepted=raw.get("accepted_answer") is True
                    or (number is not None and number == topic.accepted_post_number),
                    score=_like_count(raw),
                )
            )
        if not posts:
            return None
        return Document(
            # Topics move between categories, so no category in the identity; the empty
            # part keeps topic ids apart from post ids.
            id=stable_id(self.kind, site, "", topic_id),
            kind=self.kind,
            title=topic.title or opening_line(posts[0].text),
            path=topic.path,
            url=topic_url,
            author=posts[0].author_name,
            created_at=posts[0].created_at,
            posts=tuple(posts),
        )


def _gather(data: Any, path: str, topics: dict[int, _Topic]) -> None:
    """Add the full posts of one response to `topics`, keeping the first copy of each."""
    if not isinstance(data, dict):
        return
    topic_info: dict[str, Any] = {}
    if isinstance(data.get("post_stream"), dict):
        topic_info = data
        raws = data["post_stream"].get("posts")
    elif "latest_posts" in data:
        raws = data["latest_posts"]
    elif "cooked" in data:
        raws = [data]
    else:
        return
    for raw in raws if isinstance(raws, list) else ():
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
            continue
        topic_id = raw.get("topic_id", topic_info.get("id"))
        if not isinstance(topic_id, int):
            continue
        topic = topics.setdefault(topic_id, _Topic(path=path))
        topic.title = topic.title or _text(topic_info.get("title")) or _text(raw.get("topic_title"))
        category_id = topic_info.get("category_id", raw.get("category_id"))
        if topic.category_id is None and _is_id(category_id):
            topic.category_id = category_id
        topic.personal = topic.personal or topic_info.get("archetype") == "private_message"
        topic.slug = topic.slug or _text(topic_info.get("slug")) or _text(raw.get("topic_slug"))
        accepted = topic_info.get("accepted_answer")
        if isinstance(accepted, dict) and isinstance(accepted.get("post_number"), int):
            topic.accepted_post_number = accepted["post_number"]
        topic.posts.setdefault(raw["id"], raw)


def _gather_categories(data: Any, categories: dict[int, _Category]) -> None:
    """Add what one response says of categories to `categories`, the stricter word winning."""
    for raw in _category_objects(data):
        if not _is_id(raw.get("id")):
            continue
        category = categories.setdefault(raw["id"], _Category())
        category.name = category.name or _text(raw.get("name")).strip()
        # Missing: not restricted; anything but false (a malformed flag too): restricted.
        category.read_restricted |= raw.get("read_restricted", False) is not False
        permissions = raw.get("group_permissions")
        if category.groups is None and isinstance(permissions, list):
            names = [_text(p.get("group_name")) if isinstance(p, dict) else "" for p in permissions]
            if all(names):  # one it cannot name: who may read is not all known
                category.groups = tuple(names)


def _category_objects(data: Any) -> list[dict[str, Any]]:
    """The category objects of a response, wherever Discourse puts them."""
    if not isinstance(data, dict):
        return []
    found = [data.get("category"), *_list(data.get("categories"))]
    category_list = data.get("category_list")
    if isinstance(category_list, dict):
        found += _list(category_list.get("categories"))
    details = data.get("details")
    suggested = _list(details.get("suggested_topics")) if isinstance(details, dict) else []
    found += [topic.get("category") for topic in suggested if isinstance(topic, dict)]
    found += [sub for c in found if isinstance(c, dict) for sub in _list(c.get("subcategory_list"))]
    return [c for c in found if isinstance(c, dict)]


def _group_members(folder: Path) -> tuple[dict[str, list[tuple[str, str]]], list[LoadFailure]]:
    """Each group's members, (user id, name) pairs, from `groups/<name>/members.json`."""
    members: dict[str, list[tuple[str, str]]] = {}
    failures: list[LoadFailure] = []
    for file in sorted(folder.glob("groups/*/members.json")):
        try:
            data = read_json_file(file)
        except ValueError as exc:
            failures.append(LoadFailure(str(file), str(exc)))
            continue
        if not isinstance(data, dict) or not isinstance(data.get("members"), list):
            failures.append(
                LoadFailure(str(file), 'not a group\'s members: expected {"members": [...]}')
            )
            continue
        users = [u for u in data["members"] + _list(data.get("owners")) if isinstance(u, dict)]
        members[file.parent.name] = [member for u in users if (member := _member(u))]
    return members, failures


def _member(user: dict[str, Any]) -> tuple[str, str] | None:
    """A group member as (id, name), as posts name their authors; None without an id."""
    username = _text(user.get("username"))
    user_id = _text(user.get("id")) or username
    return (user_id, _text(user.get("name")).strip() or username) if user_id else None


def _topic_access(
    topic: _Topic, categories: dict[int, _Category], members: dict[str, list[tuple[str, str]]]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Who may read a topic, as the responses say: its level and, for a group, its readers."""
    if topic.personal:
        return MAINTAINERS, ()
    category = categories.get(topic.category_id) if topic.category_id is not None else None
    if category is None or not category.read_restricted:
        return "", ()
    if category.groups is None or any(group not in members for group in category.groups):
        return MAINTAINERS, ()
    readers = tuple(dict.fromkeys(r for group in category.groups for r in members[group]))
    if not readers:
        return MAINTAINERS, ()
    return f"{GROUP}{category.name or topic.category_id}", readers


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _topic_url(site_url: str, slug: str, topic_id: int) -> str:
    # Discourse routes /t/{slug}/{id} and /t/{id}; the slug is cosmetic.
    return f"{site_url}/t/{slug}/{topic_id}" if slug else f"{site_url}/t/{topic_id}"


def _post_number(raw: dict[str, Any], key: str = "post_number") -> int | None:
    number = raw.get(key)
    return number if isinstance(number, int) else None


def _text(value: object) -> str:
    """A string or number field as text; "" for a missing or malformed one (a list...)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def _is_knowledge(raw: dict[str, Any]) -> bool:
    return (
        raw.get("post_type", _REGULAR_POST) == _REGULAR_POST
        and not raw.get("hidden")
        and not raw.get("deleted_at")
    )


def _like_count(raw: dict[str, Any]) -> int | None:
    for action in _list(raw.get("actions_summary")):
        if isinstance(action, dict) and action.get("id") == _LIKE_ACTION:
            count = action.get("count", 0)
            return count if isinstance(count, int) else None
    return None


def _internal_site_url(data: Any) -> str:
    """The forum's address, from an absolute link Discourse marked as internal, or ""."""
    if not isinstance(data, dict):
        return ""
    details = data.get("details")
    links = _list(details.get("links")) if isinstance(details, dict) else []
    stream = data.get("post_stream")
    for raw in _list(stream.get("posts")) if isinstance(stream, dict) else ():
        if isinstance(raw, dict):
            links.extend(_list(raw.get("link_counts")))
    for link in links:
        if isinstance(link, dict) and link.get("internal") is True:
            try:
                parts = urllib.parse.urlsplit(_text(link.get("url")))
            except ValueError:  # "https://[x": not an address (urlsplit checks IPv6 brackets)
                continue
            if parts.scheme in ("http", "https") and parts.netloc:
                return f"{parts.scheme}://{parts.netloc}"
    return ""


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _epoch(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())


def _has_marker(path: Path) -> bool:
    with path.open("rb") as handle:
        return bool(_MARKER_KEY.search(handle.read(_MARKER_BYTES)))
