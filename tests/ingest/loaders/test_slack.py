"""SlackExportLoader on the R Contributors export (folder and zip), and on broken exports."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from copqa.models import Document, LoadFailure
from copqa.settings import IngestSettings, Settings
from ingest.loaders.discussions.slack import SlackExportLoader
from ingest.loaders.discussions.slack_workspace import mrkdwn_to_text
from ingest.loaders.registry import all_loaders
from tests.support.private_exports import SLACK_MEMBERS, PrivateExport, private_slack_export

WORKSPACE = "https://r-contributors.slack.com"
CORE_DEV_HELP = f"{WORKSPACE}/archives/C01ESS92UMN"
# Channels zipped for the folder-vs-zip test: two listed in channels.json, one not (gsod).
ZIPPED_CHANNELS = ("core-dev-help", "bug-reporting", "gsod")
HOUSEKEEPING = (
    "has joined the channel",
    "set the channel topic",
    "set the channel description",
    "has renamed the channel",
    "archived the channel",
    "set up a reminder",
    "This message was deleted.",
)


@pytest.fixture(scope="module")
def export(shared_data: Path) -> Path:
    return shared_data / "r-contributors" / "slack"


@pytest.fixture(scope="module")
def loaded(export: Path) -> list[Document | LoadFailure]:
    return list(SlackExportLoader(WORKSPACE).load(export))


@pytest.fixture(scope="module")
def documents(loaded: list[Document | LoadFailure]) -> list[Document]:
    return [d for d in loaded if isinstance(d, Document)]


def _by_url(documents: list[Document], url: str) -> Document:
    return next(d for d in documents if d.url == url)


def _documents(items: list[Document | LoadFailure]) -> list[Document]:
    return [d for d in items if isinstance(d, Document)]


def _failures(items: list[Document | LoadFailure]) -> list[LoadFailure]:
    return [f for f in items if isinstance(f, LoadFailure)]


def test_every_thread_is_one_document(loaded: list[Document | LoadFailure]) -> None:
    documents = _documents(loaded)
    posts = [p for d in documents for p in d.posts]
    replied = [d for d in documents if len(d.posts) > 1]
    print(f"slack: {len(documents)} threads ({len(replied)} with replies), {len(posts)} posts")
    assert _failures(loaded) == []
    assert len(documents) == 2557
    assert len(replied) == 771
    assert len(posts) == 5976
    assert len({d.id for d in documents}) == 2557
    assert len({p.id for p in posts}) == 5976
    assert len({d.channel for d in documents}) == 29
    assert {d.kind for d in documents} == {"slack"}


def test_every_raw_message_is_accounted_for(export: Path, documents: list[Document]) -> None:
    """7,677 = 9 canvases + 1,454 housekeeping messages + 238 without text + 5,976 posts."""
    subtypes: Counter[str | None] = Counter()
    empty = 0
    for day_file in export.glob("*/*.json"):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}\.json", day_file.name):
            # canvas_in_the_conversation.json: 9 canvas file records, the "9 messages
            # without ts" of the data README; they hold no text, only a download link.
            assert len(json.loads(day_file.read_text())) == 1
            continue
        for message in json.loads(day_file.read_text()):
            subtypes[message.get("subtype")] += 1
            kept = message.get("subtype") in (None, "bot_message", "thread_broadcast", "me_message")
            empty += kept and not message["text"].strip()
    assert subtypes == {
        None: 5996,
        "bot_message": 159,
        "thread_broadcast": 58,
        "me_message": 1,
        "channel_join": 1398,
        "channel_purpose": 16,
        "channel_topic": 14,
        "welcome_party": 12,
        "channel_name": 4,
        "channel_archive": 4,
        "reminder_add": 2,
        "tombstone": 2,
        "channel_canvas_updated": 1,
        "channel_tab_added": 1,
    }
    # GitHub notifications carried only in attachments (208), file-only uploads (26)...
    assert empty == 238
    assert 5996 + 159 + 58 + 1 - empty == sum(len(d.posts) for d in documents)


def test_known_thread(documents: list[Document]) -> None:
    thread = _by_url(documents, f"{CORE_DEV_HELP}/p1612601741002500")
    assert thread.channel == "#core-dev-help"
    assert (
        thread.title == "While looking at issue 17998 and testing how to translate packages with…"
    )
    assert thread.author == "Lluís Revilla Sancho"
    assert thread.created_at == 1612601741
    assert thread.path.endswith("slack/core-dev-help/2021-02-06.json")
    assert len(thread.posts) == 10
    root, reply = thread.posts[:2]
    assert root.url == thread.url
    assert root.reply_to is None
    assert root.id != thread.id
    assert root.text.startswith(
        "While looking at issue 17998 and testing how to translate packages with potools, "
        "I found something I am not sure it is a bug: "
        "(17998: https://bugs.r-project.org/bugzilla/show_bug.cgi?id=17998; "
        "potools: https://github.com/MichaelChirico/potools)\n"
    )
    assert reply.author_name == "Heather Turner (admin, she/her)"
    assert reply.author_id == "U01DZUA88S1"
    assert reply.reply_to == root.id
    assert reply.url == (
        f"{CORE_DEV_HELP}/p1612812788003200?thread_ts=1612601741.002500&cid=C01ESS92UMN"
    )
    assert thread.posts[-1].text == (
        "Submitted as https://bugs.r-project.org/bugzilla/show_bug.cgi?id=18055"
    )


def test_authors_are_named_never_ids(export: Path, documents: list[Document]) -> None:
    members = {m["id"] for m in json.loads((export / "users.json").read_text())}
    posts = [p for d in documents for p in d.posts]
    by_member = [p for p in posts if p.author_id in members]
    assert len(by_member) == 5812
    assert not [p for p in by_member if re.fullmatch(r"U[A-Z0-9]{6,}", p.author_name)]
    # The profile's display name first, then the real name.
    assert {p.author_name for p in posts if p.author_id == "U01DY0U758E"} == {"kara"}
    assert {p.author_name for p in posts if p.author_id == "U01KDKGN32A"} == {"Flic Anderson"}
    bots = Counter(p.author_name for p in posts if p.is_bot)
    assert bots["GitHub"] == 38
    assert bots["Slackbot"] == 8
    assert bots["Ella Kaye"] == 8  # posted through the Matrix bridge, named by `username`
    assert not [p for p in posts if p.author_name == "Heather Turner (admin, she/her)" and p.is_bot]


def test_mentions_and_links_are_readable(documents: list[Document]) -> None:
    posts = {p.url: p for d in documents for p in d.posts}
    mention = posts[
        f"{CORE_DEV_HELP}/p1622349833016300?thread_ts=1622326008.007400&cid=C01ESS92UMN"
    ]
    assert mention.text.startswith("Thanks @Michael Chirico (he/him)! \n\nHi @Elio, you could")
    channel_link = posts[
        f"{WORKSPACE}/archives/C01EST8PTFA/p1629647093009100"
        "?thread_ts=1629645415.009000&cid=C01EST8PTFA"
    ]
    assert channel_link.text == "There's the channel #bug-reporting, for this"
    here = posts[f"{WORKSPACE}/archives/C051AM4APAB/p1684238093237349"]
    assert here.text == (
        "@here Cohort 1 meeting in ~5 minutes: "
        "https://us02web.zoom.us/j/82879348756?pwd=cUlDZ3dldm9Oc0ZCa01lcnM2NFljdz09"
    )
    texts = [p.text for p in posts.values()]
    assert not [t for t in texts if re.search(r"<[@#!]|&(amp|lt|gt);", t)]


def test_housekeeping_is_left_out(documents: list[Document]) -> None:
    texts = [p.text for d in documents for p in d.posts]
    assert not [t for t in texts if any(phrase in t for phrase in HOUSEKEEPING)]


def test_thread_whose_root_was_deleted_keeps_its_replies(documents: list[Document]) -> None:
    thread = _by_url(documents, f"{WORKSPACE}/archives/C01EFL0CEBB/p1710500968450909")
    assert [p.author_name for p in thread.posts] == ["Heather Turner (admin, she/her)", "sheng hu"]
    assert [p.reply_to for p in thread.posts] == [None, None]
    assert thread.author == "Heather Turner (admin, she/her)"
    assert thread.title.startswith("This question is off-topic for this Slack")


def test_posts_are_chronological_and_ids_stable(export: Path, documents: list[Document]) -> None:
    for document in documents:
        times = [p.created_at for p in document.posts]
        assert None not in times
        assert times == sorted(times), document.url
    again = _documents(list(SlackExportLoader().load(export)))
    assert [d.id for d in again] == [d.id for d in documents]
    assert [p.id for d in again for p in d.posts] == [p.id for d in documents for p in d.posts]
    assert {d.url for d in again} == {""}  # no workspace URL, no links


@pytest.mark.parametrize("top", ["slack/", ""])
def test_zip_gives_the_same_threads_and_ids(
    export: Path, documents: list[Document], tmp_path: Path, top: str
) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in ("users.json", "channels.json"):
            zipped.write(export / name, top + name)
        for channel in ZIPPED_CHANNELS:
            for day_file in sorted((export / channel).glob("*.json")):
                zipped.write(day_file, f"{top}{channel}/{day_file.name}")
    loader = SlackExportLoader(WORKSPACE)
    assert loader.detect(archive)
    from_zip = list(loader.load(archive))
    assert _failures(from_zip) == []
    wanted = {f"#{channel}" for channel in ZIPPED_CHANNELS}
    from_folder = [d for d in documents if d.channel in wanted]
    assert len(from_folder) == 175
    assert [(d.id, d.url, d.title, d.posts) for d in _documents(from_zip)] == [
        (d.id, d.url, d.title, d.posts) for d in from_folder
    ]
    first = _documents(from_zip)[0]
    assert first.path == f"{archive}/{top}bug-reporting/2021-04-13.json"


def test_detect(export: Path, shared_data: Path, tmp_path: Path) -> None:
    loader = SlackExportLoader()
    assert loader.detect(export)
    assert not loader.detect(export / "core-dev-help")
    assert not loader.detect(export / "users.json")
    assert not loader.detect(shared_data / "r-contributors" / "docs")
    assert not loader.detect(shared_data / "zulip-ncar-esds")
    assert not loader.detect(tmp_path / "missing")
    not_a_zip = tmp_path / "export.zip"
    not_a_zip.write_bytes(b"PK\x03\x04 truncated")
    assert not loader.detect(not_a_zip)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zipped:
        zipped.writestr("notes/readme.txt", "hello")
    assert not loader.detect(other_zip)


def _write_export(root: Path, files: dict[str, object | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return root


USERS = [
    {"id": "U1", "name": "ada", "profile": {"display_name": "Ada", "real_name": "Ada L."}},
    {"id": "U2", "name": "bob", "profile": {"display_name": "", "real_name": "Bob B."}},
]
CHANNELS = [{"id": "C1", "name": "general"}, {"id": "C2", "name": "help"}]


def test_bad_files_are_named_and_the_rest_loads(tmp_path: Path) -> None:
    root = _write_export(
        tmp_path / "export",
        {
            "users.json": USERS,
            "channels.json": CHANNELS,
            "general/2021-01-01.json": [
                {"ts": "1609459200.000100", "user": "U1", "text": "How do I build R?"},
                {"ts": "1609459300.000200", "user": "U2", "text": "Second question"},
                {"user": "U2", "text": "lost its ts and thread_ts"},
                "not a message",
            ],
            "general/2021-01-02.json": b'[{"ts": "1609545600.1", "text": ',
            "general/2021-01-03.json": b'[{"ts": "1609632000.1", "text": "caf\xe9"}]',
            "general/2021-01-04.json": {"ts": "1609718400.1"},
            "help/2021-01-01.json": [
                {"ts": "1609459200.000300", "user": "U2", "text": "Use make."},
            ],
        },
    )
    loaded = list(SlackExportLoader().load(root))
    failures = {Path(f.path).relative_to(root).as_posix(): f.error for f in _failures(loaded)}
    assert set(failures) == {
        "general/2021-01-01.json",
        "general/2021-01-02.json",
        "general/2021-01-03.json",
        "general/2021-01-04.json",
    }
    assert failures["general/2021-01-01.json"] == "2 messages skipped: no ts or thread_ts"
    assert failures["general/2021-01-02.json"].startswith("malformed JSON")
    assert failures["general/2021-01-03.json"].startswith("not UTF-8 text")
    assert failures["general/2021-01-04.json"] == "expected a JSON list"
    documents = _documents(loaded)
    assert [(d.channel, d.title, d.author) for d in documents] == [
        ("#general", "How do I build R?", "Ada"),
        ("#general", "Second question", "Bob B."),
        ("#help", "Use make.", "Bob B."),
    ]


def test_threads_gather_replies_across_days_even_without_their_root(tmp_path: Path) -> None:
    root = _write_export(
        tmp_path / "export",
        {
            "users.json": USERS,
            "channels.json": CHANNELS,
            "general/2021-01-01.json": [
                {
                    "ts": "1609459200.000100",
                    "thread_ts": "1609459200.000100",
                    "user": "U1",
                    "text": "Question <!channel>",
                    "reply_count": 2,
                },
                {
                    "ts": "1609459260.000100",
                    "thread_ts": "1609459100.000001",
                    "user": "U1",
                    "text": "a reply whose root is not in the export",
                },
                {
                    "ts": "1609459300.000100",
                    "subtype": "channel_join",
                    "user": "U2",
                    "text": "<@U2> has joined the channel",
                },
            ],
            "general/2021-01-02.json": [
                {
                    "ts": "1609545600.000100",
                    "thread_ts": "1609459200.000100",
                    "user": "U2",
                    "text": "Answer for <@U1>, see <https://r-project.org|R> &amp; <#C2>",
                },
                {"thread_ts": "1609459200.000100", "user": "U1", "text": "thanks (ts lost)"},
            ],
        },
    )
    loader = SlackExportLoader("https://example.slack.com/")
    documents = _documents(list(loader.load(root)))
    assert len(documents) == 2
    orphan, thread = documents
    assert orphan.url == "https://example.slack.com/archives/C1/p1609459100000001"
    assert [p.text for p in orphan.posts] == ["a reply whose root is not in the export"]
    assert orphan.posts[0].reply_to is None
    assert [p.text for p in thread.posts] == [
        "Question @channel",
        "thanks (ts lost)",
        "Answer for @Ada, see R & #help (R: https://r-project.org)",
    ]
    assert [p.created_at for p in thread.posts] == [1609459200, 1609459200, 1609545600]
    assert thread.posts[2].reply_to == thread.posts[0].id
    assert thread.posts[2].url == (
        "https://example.slack.com/archives/C1/p1609545600000100?thread_ts=1609459200.000100&cid=C1"
    )
    assert thread.path == str(root / "general" / "2021-01-01.json")


def test_missing_users_json_is_reported_and_ids_stand_in(tmp_path: Path) -> None:
    root = _write_export(
        tmp_path / "export",
        {
            "channels.json": CHANNELS,
            "general/2021-01-01.json": [
                {"ts": "1609459200.000100", "user": "U1", "text": "hi <@U2>"},
            ],
        },
    )
    loader = SlackExportLoader()
    assert loader.detect(root)
    loaded = list(loader.load(root))
    assert _failures(loaded) == [
        LoadFailure(str(root / "users.json"), "missing: ids shown as names")
    ]
    (document,) = _documents(loaded)
    assert (document.posts[0].author_name, document.posts[0].text) == ("U1", "hi @U2")


def test_unsafe_zip_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("channels.json", json.dumps(CHANNELS))
        zipped.writestr("../general/2021-01-01.json", "[]")
    loaded = list(SlackExportLoader().load(archive))
    assert len(loaded) == 1
    assert isinstance(loaded[0], LoadFailure)
    assert loaded[0].path == str(archive)
    assert "points outside the archive" in loaded[0].error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]


def test_mrkdwn_to_text() -> None:
    users = {"U1": "Ada"}
    channels = {"C1": "general"}
    cases = {
        "<@U1> and <@U9>": "@Ada and @U9",
        "<@U9|old-name>": "@old-name",
        "<#C1|renamed> <#C1> <#C9>": "#renamed #general #C9",
        "<!here> <!channel> <!everyone>": "@here @channel @everyone",
        "<!subteam^S1|@core> at <!date^1392734382^{date}|Feb 18>": "@core at Feb 18",
        "<https://a.org/x|the docs> <https://a.org/y>\nnext <https://b.org|b>": (
            "the docs https://a.org/y (the docs: https://a.org/x)\nnext b (b: https://b.org)"
        ),
        "which(<http://is.na|is.na>(x)) <mailto:a@b.org|a@b.org>": "which(is.na(x)) a@b.org",
        "x &lt;- 1 &amp;&amp; y &gt; 2; &amp;lt;": "x <- 1 && y > 2; &lt;",
    }
    for mrkdwn, text in cases.items():
        assert mrkdwn_to_text(mrkdwn, users, channels) == text


def _private_export(shared_data: Path, tmp_path: Path) -> PrivateExport:
    return private_slack_export(shared_data, tmp_path / "export")


def _rewrite(path: Path, edit: Callable[[Any], Any]) -> None:
    path.write_text(json.dumps(edit(json.loads(path.read_text(encoding="utf-8")))))


def _by_channel(items: list[Document | LoadFailure]) -> dict[str, list[Document]]:
    channels: dict[str, list[Document]] = {}
    for document in _documents(items):
        channels.setdefault(document.channel, []).append(document)
    return channels


def test_a_private_channel_is_read_by_its_members_only(shared_data: Path, tmp_path: Path) -> None:
    """#cran-cookbook's real entry moved to groups.json, as Slack exports a private channel."""
    export = _private_export(shared_data, tmp_path)
    items = list(SlackExportLoader(WORKSPACE).load(export.folder))
    assert _failures(items) == []
    channels = _by_channel(items)
    private = channels.pop("#cran-cookbook")
    assert len(private) == 4
    assert {(d.access, d.readers) for d in private} == {("group:#cran-cookbook", SLACK_MEMBERS)}
    # Linked by the id groups.json gives the channel.
    assert {d.url.split("/p")[0] for d in private} == {f"{WORKSPACE}/archives/C081W6NU9RV"}
    thread = next(d for d in private if d.title == export.thread)
    assert export.question in thread.posts[1].text
    assert {c: len(d) for c, d in channels.items()} == {"#wishlist-discuss": 16, "#bug-bbq": 13}
    assert {(d.access, d.readers) for docs in channels.values() for d in docs} == {("", ())}


def test_a_private_channel_marked_in_channels_json_is_read_by_its_members_only(
    shared_data: Path, tmp_path: Path
) -> None:
    export = _private_export(shared_data, tmp_path)
    channels = json.loads((shared_data / "r-contributors/slack/channels.json").read_text())
    marked = [{**c, "is_private": c["name"] == "cran-cookbook"} for c in channels]
    (export.folder / "channels.json").write_text(json.dumps(marked), encoding="utf-8")
    (export.folder / "groups.json").unlink()
    by_channel = _by_channel(list(SlackExportLoader(WORKSPACE).load(export.folder)))
    private = by_channel.pop("#cran-cookbook")
    assert {(d.access, d.readers) for d in private} == {("group:#cran-cookbook", SLACK_MEMBERS)}
    assert {d.access for docs in by_channel.values() for d in docs} == {""}


def test_a_member_missing_from_users_json_is_named_by_their_id(
    shared_data: Path, tmp_path: Path
) -> None:
    export = _private_export(shared_data, tmp_path)
    _rewrite(export.folder / "users.json", lambda us: [u for u in us if u["id"] != "U08LTDZ1QB0"])
    private = _by_channel(list(SlackExportLoader().load(export.folder)))["#cran-cookbook"]
    expected = tuple((uid, uid if uid == "U08LTDZ1QB0" else name) for uid, name in SLACK_MEMBERS)
    assert {d.readers for d in private} == {expected}


@pytest.mark.parametrize("members", ["missing", [], "U01DZUA88S1", [None, 7]])
def test_a_private_channel_without_a_members_list_is_for_maintainers(
    shared_data: Path, tmp_path: Path, members: object
) -> None:
    export = _private_export(shared_data, tmp_path)

    def without_members(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = {k: v for k, v in groups[0].items() if k != "members"}
        return [kept if members == "missing" else {**kept, "members": members}]

    _rewrite(export.folder / "groups.json", without_members)
    by_channel = _by_channel(list(SlackExportLoader().load(export.folder)))
    assert {(d.access, d.readers) for d in by_channel.pop("#cran-cookbook")} == {
        ("maintainers", ())
    }
    assert {d.access for docs in by_channel.values() for d in docs} == {""}


DM = "D03QKDM4BBQ"  # #bug-bbq's day files, exported as a DM's
GROUP_DM = "mpdm-heather--jasmine--gwynn-1"  # #outreachy's, as a group DM's
DM_MEMBERS = SLACK_MEMBERS[5], SLACK_MEMBERS[0]  # Jasmine Daly, Heather Turner
GROUP_DM_MEMBERS = SLACK_MEMBERS[0], SLACK_MEMBERS[5], SLACK_MEMBERS[1]


def _with_direct_messages(shared_data: Path, tmp_path: Path) -> Path:
    """The private export, with a DM and a group DM listed as Slack lists them."""
    folder = _private_export(shared_data, tmp_path).folder
    (folder / "bug-bbq").rename(folder / DM)
    shutil.copytree(shared_data / "r-contributors/slack/outreachy", folder / GROUP_DM)
    dm = {"id": DM, "created": 1655856000, "members": [uid for uid, _ in DM_MEMBERS]}
    group_dm = {
        "id": "G03QKMPIM01",
        "name": GROUP_DM,
        "created": 1647475200,
        "creator": "U01DZUA88S1",
        "is_archived": False,
        "members": [uid for uid, _ in GROUP_DM_MEMBERS],
        "topic": {"value": "Group messaging", "creator": "U01DZUA88S1", "last_set": 1647475200},
        "purpose": {"value": "", "creator": "", "last_set": 0},
    }
    (folder / "dms.json").write_text(json.dumps([dm]), encoding="utf-8")
    (folder / "mpims.json").write_text(json.dumps([group_dm]), encoding="utf-8")
    return folder


def test_dms_and_group_dms_are_left_out_by_default(shared_data: Path, tmp_path: Path) -> None:
    folder = _with_direct_messages(shared_data, tmp_path)
    items = list(SlackExportLoader(WORKSPACE).load(folder))
    asked = "to ingest DMs and group DMs, each for its members only, set "
    assert {Path(f.path).name: f.error for f in _failures(items)} == {
        DM: f"left out, not ingested: a DM (dms.json); {asked}COPQA_INGEST__DIRECT_MESSAGES=true",
        GROUP_DM: (
            f"left out, not ingested: a group DM (mpims.json); {asked}"
            "COPQA_INGEST__DIRECT_MESSAGES=true"
        ),
    }
    assert set(_by_channel(items)) == {"#cran-cookbook", "#wishlist-discuss"}


def test_dms_and_group_dms_asked_for_are_read_by_their_members_only(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = _with_direct_messages(shared_data, tmp_path)
    items = list(SlackExportLoader(WORKSPACE, direct_messages=True).load(folder))
    assert _failures(items) == []
    by_channel = _by_channel(items)
    dm, group_dm = by_channel[f"#{DM}"], by_channel[f"#{GROUP_DM}"]
    assert (len(dm), len(group_dm)) == (13, 6)
    assert {(d.access, d.readers) for d in dm} == {(f"group:#{DM}", DM_MEMBERS)}
    assert {(d.access, d.readers) for d in group_dm} == {(f"group:#{GROUP_DM}", GROUP_DM_MEMBERS)}
    assert {d.url.split("/p")[0] for d in dm} == {f"{WORKSPACE}/archives/{DM}"}
    assert {d.access for d in by_channel["#wishlist-discuss"]} == {""}
    # A DM whose listing names no members: no one is known to be in it.
    _rewrite(folder / "dms.json", lambda dms: [{"id": DM, "created": 1655856000}])
    items = list(SlackExportLoader(WORKSPACE, direct_messages=True).load(folder))
    assert {(d.access, d.readers) for d in _by_channel(items)[f"#{DM}"]} == {("maintainers", ())}


def test_the_direct_messages_setting_reaches_the_slack_loader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert IngestSettings().direct_messages is False
    monkeypatch.setenv("COPQA_INGEST__DIRECT_MESSAGES", "true")
    settings = Settings()
    assert settings.ingest.direct_messages is True
    loaders = all_loaders(settings.sources, direct_messages=settings.ingest.direct_messages)
    assert [
        loader.direct_messages for loader in loaders if isinstance(loader, SlackExportLoader)
    ] == [True]
    by_default = all_loaders(settings.sources)
    assert [
        loader.direct_messages for loader in by_default if isinstance(loader, SlackExportLoader)
    ] == [False]


@pytest.mark.parametrize(
    ("listing", "still_read"),
    [
        ("groups.json", {"#wishlist-discuss"}),
        ("dms.json", {"#wishlist-discuss"}),
        ("channels.json", set()),  # which channels it marks private is unknown too
    ],
)
def test_an_unreadable_list_of_conversations_leaves_out_all_but_listed_public_channels(
    shared_data: Path, tmp_path: Path, listing: str, still_read: set[str]
) -> None:
    export = _private_export(shared_data, tmp_path)
    (export.folder / listing).write_text("[{not json", encoding="utf-8")
    items = list(SlackExportLoader(WORKSPACE).load(export.folder))
    assert set(_by_channel(items)) == still_read
    assert {d.access for d in _documents(items)} <= {""}
    errors = {Path(f.path).name: f.error for f in _failures(items)}
    assert errors.pop(listing).startswith("malformed JSON")
    left_out = {"cran-cookbook", "bug-bbq", "wishlist-discuss"} - {c[1:] for c in still_read}
    assert errors == dict.fromkeys(
        left_out, "left out, not ingested: not listed as a public channel in channels.json"
    )
