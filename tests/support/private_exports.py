"""Small slices of the real exports with one private place each, for access tests.

Each function copies a few public channels, streams or topics of a real export in
`../shared/data` into a folder, marks one place private in its format's own fields, with a
real member list, and says what a test needs to know about it. They are deterministic: the
same data gives the same folder, and tens of threads at most.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PrivateExport:
    """A slice of a real export, one place of which is private.

    Attributes:
        folder: The export to ingest (a Slack or zulip-archive root, a folder of Discourse
            responses).
        place: The private place as the loader names it: `Document.channel` of a Slack
            channel or Zulip stream (`#cran-cookbook`), a Discourse category's name.
        level: What its loader sets as `Document.access` of each of its threads
            (`group:#cran-cookbook`), before ingestion adds the source (`…@1a2b3c4d`).
        members: Its group: each member's (id, name), exactly as `Document.readers` has them;
            the ids are the format's own (`U01…` for Slack, user ids for Zulip and Discourse).
        thread: The title of one private thread, whose text `words` and `question` are from.
        words: A few words of that thread that no public thread of the slice holds.
        question: A question asked in that thread, word for word.
    """

    folder: Path
    place: str
    level: str
    members: tuple[tuple[str, str], ...]
    thread: str
    words: tuple[str, ...]
    question: str


SLACK_PRIVATE = "cran-cookbook"  # 4 threads, 10 members in the real channels.json
# 16 and 13 threads; channels.json lists #wishlist-discuss, not #bug-bbq (nor 10 other folders).
SLACK_PUBLIC = ("wishlist-discuss", "bug-bbq")
# The channel's members, named as users.json names them (display name, else real name).
SLACK_MEMBERS = (
    ("U01DZUA88S1", "Heather Turner (admin, she/her)"),
    ("U01JAD86TEW", "gwynn"),
    ("U01UMEM51RA", "GitHub"),
    ("U03EPVDQEMA", "Bettina Gruen"),
    ("U04JHNDSEKX", "Avinab"),
    ("U06F2AKNWSX", "Jasmine Daly"),
    ("U073ET8BMJA", "Beni Altmann"),
    ("U07MWC5T8FJ", "Mossa"),
    ("U08LTDZ1QB0", "Harry Potter"),
    ("U08P47ZPPC4", "Lucas Bicalho"),
)
# What Slack writes for a private channel in groups.json: no `is_general`.
_GROUP_KEYS = ("id", "name", "created", "creator", "is_archived", "members", "topic", "purpose")


def private_slack_export(data: Path, into: Path) -> PrivateExport:
    """The R Contributors Slack, with #cran-cookbook exported as a private channel.

    `into` gets `users.json`, `channels.json` without #cran-cookbook, `groups.json` holding
    its real entry (its `members` list too), and the day files of it, #wishlist-discuss and
    #bug-bbq: 33 threads, 4 of them private.

    Args:
        data: The shared real data (`../shared/data`).
        into: A folder that does not exist yet.
    """
    export = data / "r-contributors" / "slack"
    into.mkdir(parents=True)
    for name in ("users.json", SLACK_PRIVATE, *SLACK_PUBLIC):
        _copy(export / name, into / name)
    channels = _json(export / "channels.json")
    private = next(c for c in channels if c["name"] == SLACK_PRIVATE)
    _write(into / "channels.json", [c for c in channels if c["name"] != SLACK_PRIVATE])
    _write(into / "groups.json", [{key: private[key] for key in _GROUP_KEYS}])
    return PrivateExport(
        folder=into,
        place=f"#{SLACK_PRIVATE}",
        level=f"group:#{SLACK_PRIVATE}",
        members=SLACK_MEMBERS,
        thread="Hey folks. @gwynn was wondering if we want to do a project that extends the…",
        words=("cookbook", "GSoD", "wiki", "Consortium"),
        question="When is the next RC WG meeting?",
    )


ZULIP_PRIVATE = "MARBL"  # 7 topics
ZULIP_PUBLIC = ("ocean-cdr", "solar-forcing")  # 4 topics each
# The stream's posters, by the user ids their mentions carry (`data-user-id`).
ZULIP_MEMBERS = (
    ("10", "Michael Levy"),
    ("14", "Matt Long"),
    ("28", "Kristen Krumhardt"),
    ("31", "Keith Lindsay"),
    ("184", "Dafydd Stephenson"),
)


def private_zulip_export(data: Path, into: Path) -> PrivateExport:
    """The NCAR ESDS zulip-archive, with #MARBL an invite-only stream.

    `into` gets `zulip_json/` with the topic files of #MARBL, #ocean-cdr and #solar-forcing
    (15 topics, 7 private) and a `stream_index.json` of those three streams, where #MARBL
    carries Zulip's `"invite_only": true` and `"subscribers"` (its posters' user ids). The
    archive's JSON has no sender ids, so a subscriber is named from the mentions of them.

    Args:
        data: The shared real data (`../shared/data`).
        into: A folder that does not exist yet.
    """
    archive = data / "zulip-ncar-esds" / "zulip_json"
    index = _json(archive / "stream_index.json")
    streams = {name: index["streams"][name] for name in (ZULIP_PRIVATE, *ZULIP_PUBLIC)}
    subscribers = [int(uid) for uid, _ in ZULIP_MEMBERS]
    streams[ZULIP_PRIVATE] = {
        **streams[ZULIP_PRIVATE],
        "invite_only": True,
        "subscribers": subscribers,
    }
    json_dir = into / "zulip_json"
    json_dir.mkdir(parents=True)
    for stream in streams.values():
        folder = next(archive.glob(f"{stream['id']}-*"))
        _copy(folder, json_dir / folder.name)
    _write(json_dir / "stream_index.json", {**index, "streams": streams})
    return PrivateExport(
        folder=into,
        place=f"#{ZULIP_PRIVATE}",
        level=f"group:#{ZULIP_PRIVATE}",
        members=ZULIP_MEMBERS,
        thread="additional carbonate systems",
        words=("carbonate", "simultaneous", "4d"),
        question="Are there any existing examples in MARBL of 4d fields?",
    )


DISCOURSE_CATEGORY = "uncategorized"  # category 13, as topic.json's copies of it name it
DISCOURSE_GROUP = "sandbox-team"
# The sandbox topic's four posters, as their posts name them.
DISCOURSE_MEMBERS = (
    ("15", "Sam Saffron"),
    ("23", "Adam Davis"),
    ("50", "Stefan Plattner"),
    ("123", "Someones Name"),
)


def private_discourse_export(data: Path, into: Path) -> PrivateExport:
    """The Discourse API samples, with category 13 (the sandbox topic's) read-restricted.

    `into` gets every sample response (5 topics; topic 57, the sandbox one, is in category
    13), a `/c/uncategorized/13/show.json` response saying the category is
    `read_restricted` for the group `sandbox-team` (`group_permissions`), and that group's
    `/groups/sandbox-team/members.json` response, saved as `groups/sandbox-team/members.json`:
    the four members who posted in the topic.

    Args:
        data: The shared real data (`../shared/data`).
        into: A folder that does not exist yet.
    """
    for response in sorted((data / "discourse-api-samples").glob("*.json")):
        _copy(response, into / response.name)
    permission = {"permission_type": 1, "group_name": DISCOURSE_GROUP}
    category = {
        "id": 13,
        "name": DISCOURSE_CATEGORY,
        "slug": DISCOURSE_CATEGORY,
        "read_restricted": True,
        "group_permissions": [permission],
    }
    _write(into / "c_uncategorized_13_show.json", {"category": category})
    _write(into / "groups" / DISCOURSE_GROUP / "members.json", _members_response(into))
    return PrivateExport(
        folder=into,
        place=DISCOURSE_CATEGORY,
        level=f"group:{DISCOURSE_CATEGORY}",
        members=DISCOURSE_MEMBERS,
        thread="THIS SITE IS A SANDBOX -- it is reset every day",
        words=("sandbox", "tomorrow", "experiment"),
        question="So I have to post this every day?",
    )


def _members_response(samples: Path) -> dict[str, Any]:
    """`/groups/{name}/members.json` of the members, as the sandbox topic's posts give them."""
    posts = [
        post
        for name in ("topic.json", "topic_posts.json")
        for post in _json(samples / name)["post_stream"]["posts"]
    ]
    users = {str(post["user_id"]): post for post in posts}
    members = [
        {"id": users[uid]["user_id"], "username": users[uid]["username"], "name": name}
        for uid, name in DISCOURSE_MEMBERS
    ]
    meta = {"total": len(members), "limit": 50, "offset": 0}
    return {"members": members, "owners": [], "meta": meta}


def _copy(source: Path, target: Path) -> None:
    """Copy a file or a folder's files, writable (the shared data is read-only)."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    for file in files:
        copied = target / file.relative_to(source) if file != source else target
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, copied)


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")
