"""Access levels from the command line: `ingest --access`, `sources set-access`, `ask --as`,
and the groups `members accounts` shows, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_copqa
from tests.support.files import write_files
from tests.support.private_exports import private_slack_export

NOTE = "The spare key to the paint store is kept in the blue tin behind the kettle."
QUESTION = "Where is the spare key to the paint store?"


def _cited(home: Path, *args: str) -> list[str]:
    done = run_copqa(home, "ask", QUESTION, "--json", *args)
    assert done.returncode == 0, done.stderr
    return [c["path"] for c in json.loads(done.stdout)["citations"]]


def _add_account(home: Path, name: str, role: str) -> None:
    added = run_copqa(
        home, "members", "add", name, "--role", role, "--password-stdin", stdin="long password\n"
    )
    assert added.returncode == 0, added.stderr


def test_a_members_only_source_answers_members_and_set_access_opens_it(tmp_path):
    home = tmp_path / "home"
    notes = write_files(tmp_path / "notes", {"keys.md": NOTE})
    assert run_copqa(home, "ingest", str(notes), "--access", "members").returncode == 0
    _add_account(home, "bob", "member")
    assert _cited(home) == []  # a guest
    assert any(p.endswith("keys.md") for p in _cited(home, "--as", "bob"))
    listed = json.loads(run_copqa(home, "sources", "--json").stdout)
    assert [s["access"] for s in listed] == ["members"]
    opened = run_copqa(home, "sources", "set-access", listed[0]["id"], "public", "--json")
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["chunks_changed"] == 1
    assert any(p.endswith("keys.md") for p in _cited(home))
    # Ingesting again without --access keeps the level it has now.
    assert run_copqa(home, "ingest", str(notes)).returncode == 0
    assert any(p.endswith("keys.md") for p in _cited(home))


def test_wrong_levels_and_unknown_accounts_are_one_line_errors(tmp_path):
    home = tmp_path / "home"
    notes = write_files(tmp_path / "notes", {"keys.md": NOTE})
    refused = run_copqa(home, "ingest", str(notes), "--access", "everyone")
    assert (
        refused.returncode != 0 and "public, members, maintainers or group:NAME" in refused.stderr
    )
    assert run_copqa(home, "ingest", str(notes)).returncode == 0
    unknown = run_copqa(home, "ask", QUESTION, "--as", "nobody")
    assert unknown.returncode == 1 and "no account named 'nobody'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    wrong = run_copqa(home, "sources", "set-access", str(notes / "keys.md"), "private")
    assert wrong.returncode == 1 and "access level 'private'" in wrong.stderr
    missing = run_copqa(home, "sources", "set-access", "no-such-source", "members")
    assert missing.returncode == 1 and "no source with id or path" in missing.stderr


def test_members_accounts_shows_the_groups_of_a_private_channel(tmp_path, shared_data):
    home = tmp_path / "home"
    export = private_slack_export(shared_data, tmp_path / "slack")
    assert run_copqa(home, "ingest", str(export.folder)).returncode == 0
    _add_account(home, "Bettina Gruen", "member")
    _add_account(home, "outsider", "member")
    listed = json.loads(run_copqa(home, "members", "accounts", "--json").stdout)
    groups = {a["name"]: a["groups"] for a in listed}
    assert groups["outsider"] == []
    [group] = groups["Bettina Gruen"]
    assert group.startswith(f"{export.place}@")
    text = run_copqa(home, "members", "accounts").stdout
    assert f"Bettina Gruen: member; groups: {group}" in text
    listed_groups = json.loads(run_copqa(home, "members", "groups", "--json").stdout)
    assert list(listed_groups) == [group]
    assert "Bettina Gruen (slack:U03EPVDQEMA)" in listed_groups[group]
    assert len(listed_groups[group]) == len(export.members)
    asked = run_copqa(home, "ask", export.question, "--json", "--as", "Bettina Gruen")
    titles = [p["title"] for p in json.loads(asked.stdout)["retrieved"]]
    assert export.thread in titles
    as_guest = json.loads(run_copqa(home, "ask", export.question, "--json").stdout)
    assert export.thread not in [p["title"] for p in as_guest["retrieved"]]
