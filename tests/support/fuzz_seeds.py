"""Small valid inputs of every format the loaders read: what the fuzzer starts from.

Each seed is a source as files, `{relative path: bytes}`, plus the path (relative to
where the files are written) to hand to the loader. They are written here rather than
copied from ../shared/data so that a mutation reaches every field in a few examples.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO


@dataclass(frozen=True)
class Seed:
    """A valid source: its files, and which path of them the loader is given."""

    files: dict[str, bytes]
    source: str  # "" for the folder the files are written to


def _json(value: object) -> bytes:
    return json.dumps(value, indent=1).encode()


SLACK_FILES = {
    "users.json": _json(
        [
            {
                "id": "U1",
                "team_id": "T1",
                "name": "ada",
                "profile": {"display_name": "Ada", "real_name": "Ada Lovelace"},
            },
            {"id": "U2", "team_id": "T1", "name": "bob", "real_name": "Bob", "is_bot": False},
            {"id": "U3", "team_id": "T1", "name": "bot", "profile": {"bot_id": "B1"}},
        ]
    ),
    "channels.json": _json([{"id": "C1", "name": "general"}, {"id": "C2", "name": "laser"}]),
    "general/2024-01-02.json": _json(
        [
            {
                "type": "message",
                "user": "U1",
                "text": "How do I book the <https://x.org/laser|laser> <@U2>? &amp; <#C2>",
                "ts": "1704200000.000100",
                "thread_ts": "1704200000.000100",
            },
            {
                "type": "message",
                "user": "U2",
                "text": "Use the booking form, two days ahead. <!here>",
                "ts": "1704200100.000200",
                "thread_ts": "1704200000.000100",
                "user_profile": {"display_name": "Bobby"},
            },
            {"subtype": "channel_join", "user": "U2", "text": "joined", "ts": "1704200200.1"},
            {
                "subtype": "bot_message",
                "bot_id": "B1",
                "text": "Reminder: tidy up",
                "ts": "1704200300",
            },
        ]
    ),
    "laser/2024-01-03.json": _json(
        [{"user": "U9", "text": "Never cut PVC on the laser.", "ts": "1704300000.000100"}]
    ),
}


def zipped(files: dict[str, bytes], folder: str = "") -> bytes:
    """A zip of `files`, under `folder/` when given (people zip a folder or its contents)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}/{name}" if folder else name, data)
    return buffer.getvalue()


DISCORD_EXPORT = {
    "guild": {"id": "1", "name": "Makers"},
    "channel": {"id": "2", "name": "help"},
    "messages": [
        {
            "id": "10",
            "type": "Default",
            "timestamp": "2024-01-01T10:00:00+00:00",
            "content": "How do I deploy the contract?",
            "author": {"id": "5", "name": "ann", "nickname": "Ann", "isBot": False},
        },
        {
            "id": "11",
            "type": "Reply",
            "timestamp": "2024-01-01T10:05:00+00:00",
            "content": "Run forge script with --broadcast.",
            "author": {"id": "6", "name": "ben", "isBot": True},
            "reference": {"messageId": "10", "channelId": "2"},
        },
        {"id": "12", "type": "ChannelPinnedMessage", "content": "pinned", "author": {"id": "6"}},
    ],
}

ZULIP_FILES = {
    "zulip_json/stream_index.json": _json(
        {"streams": {"general chat": {"id": 1, "topic_data": {"3D printing": {"size": 2}}}}}
    ),
    "zulip_json/1-general.20chat/3D.20printing.json": _json(
        [
            {
                "id": 100,
                "sender_full_name": "Ann",
                "timestamp": 1700000000,
                "content": '<p>Which <a href="https://x.org/pla">PLA</a> do we use?</p>',
            },
            {
                "id": 101,
                "sender_full_name": "Ben",
                "sender_id": 7,
                "timestamp": 1700000100.5,
                "content": "<p>The white one<br>from the shelf.</p>",
            },
        ]
    ),
    "stream/1-general.20chat/topic/3D.20printing.html": (
        b'<a href="https://chat.example.org/#narrow/stream/1-general">x</a>'
    ),
}

DISCOURSE_TOPIC = {
    "id": 7,
    "title": "Laser focus",
    "slug": "laser-focus",
    "accepted_answer": {"post_number": 2},
    "details": {"links": [{"url": "https://forum.example.org/t/x/1", "internal": True}]},
    "post_stream": {
        "posts": [
            {
                "id": 70,
                "post_number": 1,
                "topic_id": 7,
                "user_id": 3,
                "username": "ann",
                "name": "Ann",
                "cooked": "<p>How do I set the focus?</p>",
                "created_at": "2024-01-01T00:00:00Z",
                "post_type": 1,
                "actions_summary": [{"id": 2, "count": 3}],
                "link_counts": [{"url": "https://forum.example.org/t/y/2", "internal": True}],
            },
            {
                "id": 71,
                "post_number": 2,
                "topic_id": 7,
                "user_id": -1,
                "username": "system",
                "cooked": "<p>Use the 5 mm acrylic gauge.</p>",
                "created_at": "2024-01-01T01:00:00+01:00",
                "reply_to_post_number": 1,
                "accepted_answer": True,
            },
            {"id": 72, "post_number": 3, "post_type": 3, "cooked": "<p>pinned</p>"},
        ]
    },
}

MBOX = b"""From ann at example.org  Mon May  2 10:00:00 2016
From: ann at example.org (Ann Smith)
Date: Mon, 2 May 2016 10:00:00 +0000
Subject: [makers] Laser focus
Message-ID: <1@example.org>
List-Id: Makers <makers.example.org>

How do I set the laser focus?
--
Ann

From ben at example.org  Mon May  2 11:00:00 2016
From: Ben <ben@example.org>
Date: Mon, 2 May 2016 11:00:00 +0000
Subject: Re: [makers] Laser focus
Message-ID: <2@example.org>
In-Reply-To: <1@example.org>
References: <1@example.org>
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Use the acrylic gauge, it is 5 mm thick.=0A
On Mon, 2 May 2016, Ann wrote:
> How do I set the laser focus?

--b1
Content-Type: text/html; charset="iso-8859-1"

<p>Use the gauge</p>
--b1--

From cat at example.org  Tue May  3 09:00:00 2016
From: =?utf-8?q?Cat_=C3=89lise?= <cat@example.org>
Date: not a date
Subject: Laser focus

Thanks!
-------------- next part --------------
An HTML attachment was scrubbed...
URL: <http://lists.example.org/x.html>
"""

STACKEXCHANGE_FILES = {
    "Posts.xml": b"""<?xml version="1.0" encoding="utf-8"?>
<posts>
  <row Id="1" PostTypeId="1" AcceptedAnswerId="3" CreationDate="2020-01-01T10:00:00.000"
       Score="5" OwnerUserId="10" Title="Chain lube?" Body="&lt;p&gt;Which chain lube?&lt;/p&gt;" />
  <row Id="2" PostTypeId="2" ParentId="1" CreationDate="2020-01-02T10:00:00.000" Score="1"
       OwnerDisplayName="gone" Body="&lt;p&gt;Any wax.&lt;/p&gt;" />
  <row Id="3" PostTypeId="2" ParentId="1" CreationDate="2020-01-03T10:00:00.000" Score="3"
       OwnerUserId="-1" Body="&lt;p&gt;Dry lube in summer.&lt;/p&gt;" />
  <row Id="4" PostTypeId="5" Body="tag wiki" />
</posts>
""",
    "Comments.xml": b"""<?xml version="1.0" encoding="utf-8"?>
<comments>
  <row Id="20" PostId="1" Score="2" Text="Road or MTB?" CreationDate="2020-01-01T11:00:00.000" UserId="11" />
  <row Id="21" PostId="3" Text="Agreed." CreationDate="2020-01-03T11:00:00.000" UserId="99" />
</comments>
""",
    "Users.xml": b"""<?xml version="1.0" encoding="utf-8"?>
<users>
  <row Id="10" DisplayName="Ann" />
  <row Id="11" DisplayName="Ben" />
</users>
""",
}

JSONL = b"\n".join(
    json.dumps(row).encode()
    for row in (
        {"id": "q1", "title": "Glue", "text": "Which glue for oak?", "author": "ann", "created_at": 1700000000},
        {"id": "a1", "thread_id": "q1", "text": "Titebond III.", "created_at": "2023-11-15T00:00:00Z"},
        {"_id": "d2", "title": "Clamps", "text": "Clamps hang on the east wall.", "url": "https://x.org"},
    )
)  # fmt: skip

MARKDOWN = b"""---
author: Ann Smith
date: 2024-03-01
---
# Woodshop guide

Intro paragraph about the woodshop.

## Saws

| tool   | rule     |
|--------|----------|
| bandsaw | blades in the blue drawer |

### Table saw
Always use the push stick.
"""

HTML = b"""<!doctype html><html><head><title>Booking</title>
<meta name="author" content="Ann"><meta name="date" content="2024-01-01"></head>
<body><h1>Tool booking</h1><p>Book the <a href="https://x.org/form">laser</a> two days ahead.<br>
At most two hours.</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>
"""

TEXT = b"Woodshop rules\n\nSweep the floor after use.\nEmpty the dust bags on Friday.\n"

PDF = (REPO / "sample" / "docs" / "meeting-minutes-2025-09.pdf").read_bytes()

# One valid source per loader kind (the registry's `kind` names).
SEEDS: dict[str, Seed] = {
    "slack": Seed(SLACK_FILES, ""),
    "slack-zip": Seed({"export.zip": zipped(SLACK_FILES, "workspace")}, "export.zip"),
    "discord": Seed({"help.json": _json(DISCORD_EXPORT)}, "help.json"),
    "zulip": Seed(ZULIP_FILES, ""),
    "discourse": Seed({"topic-7.json": _json(DISCOURSE_TOPIC)}, "topic-7.json"),
    "mbox": Seed({"2016-May.txt": MBOX}, ""),
    "stackexchange": Seed(STACKEXCHANGE_FILES, ""),
    "jsonl": Seed({"posts.jsonl": JSONL}, "posts.jsonl"),
    "pdf": Seed({"minutes.pdf": PDF}, "minutes.pdf"),
    "markdown": Seed({"guide.md": MARKDOWN}, "guide.md"),
    "html": Seed({"booking.html": HTML}, "booking.html"),
    "text": Seed({"rules.txt": TEXT}, "rules.txt"),
}


def write_seed(folder: Path, files: dict[str, bytes]) -> Path:
    """Write a source's files under `folder`, and return it."""
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder
