"""Who reads what on the page: every role asks about every access level, each cell checked.

A page of its own serves the sample community with one source per level: the public
guides, a members-only note, a maintainers-only note, and a private Slack channel
(`groups.json`, the export's own format) whose member list names bob, not cleo. Each cell
asks that level's question as that role through `/ask`, and looks for the level's secret
words in everything the page sends back: the chat, the source cards (citations, who to ask,
the closest threads of a decline), and the library listing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.accounts import MAINTAINER, MEMBER, OTHER_MEMBER
from tests.support.files import write_files
from tests.support.page_client import last_answer, page_client
from tests.support.paths import SAMPLE

PUBLIC, MEMBERS, GROUP, MAINTAINERS = "public", "members", "private channel", "maintainers"
# Each level: the question, and the words only its source holds (what must not leak).
LEVELS = {
    PUBLIC: ("Can I cut PVC on the laser cutter?", "laser-cutter-safety.md"),
    MEMBERS: ("What is the workshop door code?", "door-code-4471"),
    MAINTAINERS: ("Which card pays the forum hosting bill?", "treasurer-card-9902"),
    GROUP: ("When is the coordinator's salary review?", "council"),
}
GUEST, MEMBER_IN, MEMBER_OUT, MAINTAINER_ROLE = (
    "guest",
    "bob (in the channel)",
    "cleo",
    "maintainer",
)
ACCOUNTS = {MEMBER_IN: MEMBER, MEMBER_OUT: OTHER_MEMBER, MAINTAINER_ROLE: MAINTAINER}
SEES = {
    GUEST: {PUBLIC},
    MEMBER_IN: {PUBLIC, MEMBERS, GROUP},
    MEMBER_OUT: {PUBLIC, MEMBERS},
    MAINTAINER_ROLE: {PUBLIC, MEMBERS, GROUP, MAINTAINERS},
}
TABLE = [(level, role, level in SEES[role]) for role in SEES for level in LEVELS]

COUNCIL = [  # a private channel's thread: the question, and the answer a member gave
    ("U0BOB0001", "1741000000.000100", "When is the coordinator's salary review this year?"),
    ("U0HMG0001", "1741000300.000200", "The council holds the coordinator's salary review "
     "in September, after the accounts close; bring the council budget sheet."),
]  # fmt: skip


def _private_slack(folder: Path) -> Path:
    """The sample's Slack export with bob added and a private channel #council he is in."""
    export = folder / "slack"
    shutil.copytree(SAMPLE / "slack", export)
    users = json.loads((export / "users.json").read_text())
    users.append({"id": "U0BOB0001", "team_id": "T0HMG0TEAM", "name": "bob",
                  "real_name": "Bob Member", "profile": {"display_name": "Bob Member"}})  # fmt: skip
    (export / "users.json").write_text(json.dumps(users))
    groups = [{"id": "G0COUNCIL", "name": "council", "created": 1740000000,
               "creator": "U0HMG0001", "is_archived": False,
               "members": ["U0HMG0001", "U0BOB0001"]}]  # fmt: skip
    (export / "groups.json").write_text(json.dumps(groups))
    messages = [
        {"type": "message", "user": user, "ts": ts, "thread_ts": COUNCIL[0][1], "text": text}
        for user, ts, text in COUNCIL
    ]
    (export / "council").mkdir()
    (export / "council/2025-03-03.json").write_text(json.dumps(messages))
    return export


@pytest.fixture(scope="module")
def levels_url(tmp_path_factory):
    from eval.bench.app_server import running_app
    from tests.support.cli import run_copqa

    home = tmp_path_factory.mktemp("levels-home")
    files = home.parent / "levels-files"
    notes = {
        MEMBERS: "# Door code\n\nThe workshop door code is door-code-4471 this month; it "
        "changes on the first Monday.",
        MAINTAINERS: "# Hosting\n\nThe forum hosting bill is paid with treasurer-card-9902 "
        "every March.",
    }
    for level, text in notes.items():
        folder = write_files(files / level, {f"{level}-note.md": text})
        done = run_copqa(home, "ingest", str(folder), "--access", level)
        assert done.returncode == 0, done.stderr
    done = run_copqa(home, "ingest", str(SAMPLE / "docs"), str(_private_slack(files)))
    assert done.returncode == 0, done.stderr
    for name, role, password in ACCOUNTS.values():
        added = run_copqa(
            home, "members", "add", name, "--role", role, "--password-stdin", stdin=password + "\n"
        )
        assert added.returncode == 0, added.stderr
    aliases = json.dumps({"bob": ["slack:U0BOB0001"]})
    with running_app(home, {"COPQA_MEMBERS__ALIASES": aliases}) as url:
        yield url


@pytest.fixture(scope="module")
def sessions(levels_url):
    clients = {GUEST: page_client(levels_url)}
    clients.update({role: page_client(levels_url, account) for role, account in ACCOUNTS.items()})
    return clients


@pytest.mark.parametrize(("level", "role", "visible"), TABLE)
def test_each_role_reads_each_level_or_sees_nothing_of_it(sessions, level, role, visible):
    question, secret = LEVELS[level]
    chat, _, cards = sessions[role].predict(question, [], api_name="/ask")
    shown = last_answer(chat) + cards
    if visible:
        assert secret in shown, f"{role} should read the {level} source"
        assert 'data-citation="1"' in cards
    else:
        assert secret not in shown, f"{role} was shown the {level} source"
    if level == GROUP and not visible:
        assert "salary review in September" not in shown


@pytest.mark.parametrize("role", [MEMBER_IN, MEMBER_OUT, MAINTAINER_ROLE])
def test_the_library_lists_only_what_the_member_may_read(sessions, role):
    rows, _ = sessions[role].predict("", "", api_name="/library")
    listed = json.dumps(rows["data"])
    for level in LEVELS:
        name = {MEMBERS: "members-note.md", MAINTAINERS: "maintainers-note.md"}.get(level)
        if name is not None:
            assert (name in listed) == (level in SEES[role]), (role, level)
    assert ("#council" in listed) == (GROUP in SEES[role])


def test_the_examples_come_from_public_threads_only(sessions):
    example = sessions[GUEST].predict(0, api_name="/load_example")["value"]
    assert "salary" not in example and example.endswith("?")
