"""Who may call what: one table of every endpoint of the page by every role, each cell checked.

The page's sessions keep who is signed in on the server, and every handler checks the role
itself. Here each cell is called against the real `python app.py` as that role: named
endpoints through `gradio_client`, and the page's private events (which `gradio_client`
refuses to call) the way the page's own JavaScript triggers them, by index in the session.
A refused cell must fail with the page's refusal and leave nothing behind.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.support.accounts import MAINTAINER, MEMBER, OTHER_MEMBER
from tests.support.page_client import last_answer, page_client

ALLOWED = "allowed"
SKIPPED = "skipped"  # the event runs but hands back no data (a refresh the session may not see)
MEMBERS_ONLY = "Sign in as a member to do this."
MAINTAINERS_ONLY = "Sign in as a maintainer to do this."
ASKING_CLOSED = "Sign in as a member (asking needs an account here) to do this."
NOT_YOURS = "only the member who uploaded a source, or a maintainer, may delete it"

GUEST, MEMBER_ROLE, OTHER, MAINTAINER_ROLE = "guest", "member", "other member", "maintainer"
CLOSED_GUEST, CLOSED_MEMBER = "guest, asking closed", "member, asking closed"
ACCOUNTS = {MEMBER_ROLE: MEMBER, OTHER: OTHER_MEMBER, MAINTAINER_ROLE: MAINTAINER,
            CLOSED_MEMBER: MEMBER}  # fmt: skip
CLOSED = {CLOSED_GUEST, CLOSED_MEMBER}  # served by the page with COPQA_APP__ALLOW_ANONYMOUS=false
PRIVATE = "private:"  # an event with api_visibility="private", named as Gradio names it

# The access table: (endpoint, role, expected). Expected is ALLOWED, SKIPPED, or the refusal.
# `delete` is called on a source `member` uploaded, so `other member` is not its owner.
TABLE: list[tuple[str, str, str]] = [
    ("/ask", GUEST, ALLOWED),
    ("/ask", MEMBER_ROLE, ALLOWED),
    ("/ask", MAINTAINER_ROLE, ALLOWED),
    ("/ask", CLOSED_GUEST, ASKING_CLOSED),
    ("/ask", CLOSED_MEMBER, ALLOWED),
    ("/load_example", GUEST, ALLOWED),
    ("/load_example", MEMBER_ROLE, ALLOWED),
    ("/load_example", MAINTAINER_ROLE, ALLOWED),
    ("/load_example", CLOSED_GUEST, ALLOWED),
    ("/upload", GUEST, MEMBERS_ONLY),
    ("/upload", MEMBER_ROLE, ALLOWED),
    ("/upload", MAINTAINER_ROLE, ALLOWED),
    ("/upload", CLOSED_GUEST, MEMBERS_ONLY),
    ("/library", GUEST, MEMBERS_ONLY),
    ("/library", MEMBER_ROLE, ALLOWED),
    ("/library", MAINTAINER_ROLE, ALLOWED),
    ("/library", CLOSED_GUEST, MEMBERS_ONLY),
    ("/delete", GUEST, MEMBERS_ONLY),
    ("/delete", MEMBER_ROLE, ALLOWED),
    ("/delete", OTHER, NOT_YOURS),
    ("/delete", MAINTAINER_ROLE, ALLOWED),
    ("/delete", CLOSED_GUEST, MEMBERS_ONLY),
    ("/maintainers", GUEST, MAINTAINERS_ONLY),
    ("/maintainers", MEMBER_ROLE, MAINTAINERS_ONLY),
    ("/maintainers", MAINTAINER_ROLE, ALLOWED),
    ("/maintainers", CLOSED_GUEST, MAINTAINERS_ONLY),
    ("/export_gaps", GUEST, MAINTAINERS_ONLY),
    ("/export_gaps", MEMBER_ROLE, MAINTAINERS_ONLY),
    ("/export_gaps", MAINTAINER_ROLE, ALLOWED),
    ("/export_gaps", CLOSED_GUEST, MAINTAINERS_ONLY),
    ("/sign_in", GUEST, ALLOWED),
    ("/sign_in", MEMBER_ROLE, ALLOWED),
    ("/sign_in", MAINTAINER_ROLE, ALLOWED),
    ("/sign_in", CLOSED_GUEST, ALLOWED),
    ("/sign_out", GUEST, ALLOWED),
    ("/sign_out", MEMBER_ROLE, ALLOWED),
    ("/sign_out", MAINTAINER_ROLE, ALLOWED),
    ("/sign_out", CLOSED_GUEST, ALLOWED),
    ("private:respond", GUEST, ALLOWED),  # the Ask button
    ("private:respond", CLOSED_GUEST, ASKING_CLOSED),
    ("private:rate", GUEST, ALLOWED),  # 👍/👎 on one's own answer
    ("private:add_comment", GUEST, ALLOWED),
    ("private:enter", GUEST, ALLOWED),  # Enter in the password box
    ("private:listing", GUEST, MEMBERS_ONLY),  # the library's kind filter
    ("private:listing", MEMBER_ROLE, ALLOWED),
    ("private:listing_1", GUEST, MEMBERS_ONLY),  # the library after a delete
    ("private:listing_1", MEMBER_ROLE, ALLOWED),
    ("private:refresh", GUEST, SKIPPED),  # the library after signing in
    ("private:refresh", MEMBER_ROLE, ALLOWED),
    ("private:refresh_1", GUEST, SKIPPED),  # the maintainers' tab after signing in
    ("private:refresh_1", MEMBER_ROLE, SKIPPED),
    ("private:refresh_1", MAINTAINER_ROLE, ALLOWED),
    ("private:refresh_2", GUEST, SKIPPED),  # the library after an upload
    ("private:refresh_2", MEMBER_ROLE, ALLOWED),
]
ROLES_OF_EVERY_NAMED_ENDPOINT = {GUEST, MEMBER_ROLE, MAINTAINER_ROLE, CLOSED_GUEST}

ANSWERED = "Can I cut PVC on the laser cutter?"


@dataclass
class Seat:
    """A session of one role on one page, with the page's maintainer and member to look around."""

    role: str
    url: str
    client: Client
    maintainer: Client
    member: Client
    files: Path

    def library_names(self, query: str) -> list[str]:
        rows, _ = self.maintainer.predict(query, "", api_name="/library")
        return [row[0] for row in rows["data"] if row and row[0]]

    def forget(self, name: str) -> None:
        """Delete, as the maintainer, what a cell left in the shared page's library."""
        for _, source_id in self.maintainer.predict(name, "", api_name="/library")[1]["choices"]:
            assert "Deleted" in self.maintainer.predict(source_id, api_name="/delete")


def _note(seat: Seat, words: str) -> Path:
    """A small Markdown file no other test asks about, with content unique to this call."""
    token = uuid.uuid4().hex[:10]
    path = seat.files / f"access-{token}.md"
    path.write_text(
        f"# Bench vice note {token}\n\nThe spare bench vice for {words} lives in drawer "
        f"{token} under the woodshop window.\n",
        encoding="utf-8",
    )
    return path


def _uploaded_by_member(seat: Seat) -> tuple[str, str]:
    """(file name, source id) of a fresh upload credited to the page's member."""
    note = _note(seat, "delete checks")
    _, report = seat.member.predict([handle_file(str(note))], api_name="/upload")
    assert "**Added**" in report
    choices = seat.member.predict(note.name, "", api_name="/library")[1]["choices"]
    assert len(choices) == 1
    return note.name, choices[0][1]


# Each probe calls one endpoint as the seat's role: a real result when `expected` is
# ALLOWED; otherwise the refusal, and no trace of the call.


def _probe_ask(seat: Seat, expected: str) -> None:
    if expected == ALLOWED:
        chat, _, sources = seat.client.predict(ANSWERED, [], api_name="/ask")
        assert "[1]" in last_answer(chat) and 'data-citation="1"' in sources
        return
    question = f"Does the guild run glassblowing nights {uuid.uuid4().hex[:8]}?"
    with pytest.raises(AppError, match=re.escape(expected)):
        seat.client.predict(question, [], api_name="/ask")
    gaps = seat.maintainer.predict(api_name="/maintainers")[0]
    assert question not in gaps  # a refused question is not recorded


def _probe_load_example(seat: Seat, expected: str) -> None:
    assert expected == ALLOWED
    example = seat.client.predict(0, api_name="/load_example")
    assert isinstance(example["value"], str) and example["value"].endswith("?")


def _probe_upload(seat: Seat, expected: str) -> None:
    note = _note(seat, seat.role)
    if expected == ALLOWED:
        _, report = seat.client.predict([handle_file(str(note))], api_name="/upload")
        assert "**Added**" in report and note.name in report
        assert seat.library_names(note.name) == [note.name]
        seat.forget(note.name)
        return
    with pytest.raises(AppError, match=re.escape(expected)):
        seat.client.predict([handle_file(str(note))], api_name="/upload")
    assert seat.library_names(note.name) == []


def _probe_library(seat: Seat, expected: str) -> None:
    if expected == ALLOWED:
        rows, _ = seat.client.predict("laser", "", api_name="/library")
        assert "laser-cutter-safety.md" in [row[0] for row in rows["data"]]
        return
    with pytest.raises(AppError, match=re.escape(expected)):
        seat.client.predict("laser", "", api_name="/library")


def _probe_delete(seat: Seat, expected: str) -> None:
    name, source_id = _uploaded_by_member(seat)
    if expected == ALLOWED:
        assert "Deleted" in seat.client.predict(source_id, api_name="/delete")
        assert seat.library_names(name) == []
        return
    with pytest.raises(AppError, match=re.escape(expected)):
        seat.client.predict(source_id, api_name="/delete")
    assert seat.library_names(name) == [name]  # still there
    seat.forget(name)


def _probe_maintainers(seat: Seat, expected: str) -> None:
    if expected == ALLOWED:
        _, _, runs, report, _ = seat.client.predict(api_name="/maintainers")
        assert "added" in runs and "evaluation" in report
        return
    with pytest.raises(AppError, match=re.escape(expected)):
        seat.client.predict(api_name="/maintainers")


def _probe_export_gaps(seat: Seat, expected: str) -> None:
    if expected == ALLOWED:
        exported = Path(seat.client.predict(api_name="/export_gaps"))
        assert exported.suffix == ".jsonl" and exported.is_file()
        return
    with pytest.raises(AppError, match=re.escape(expected)):
        seat.client.predict(api_name="/export_gaps")


def _probe_sign_in(seat: Seat, expected: str) -> None:
    assert expected == ALLOWED
    name, _, password = MEMBER
    _, status = seat.client.predict(name, password, api_name="/sign_in")
    assert status == f"Signed in as **{name}** (member)."
    seat.client.predict("laser", "", api_name="/library")  # the session is the member's now


def _probe_sign_out(seat: Seat, expected: str) -> None:
    assert expected == ALLOWED
    _, status = seat.client.predict(api_name="/sign_out")
    assert status == "*Asking as a guest.*"
    with pytest.raises(AppError, match=MEMBERS_ONLY):  # the session is a guest's now
        seat.client.predict("laser", "", api_name="/library")


def _probe_private(seat: Seat, event: str, expected: str) -> None:
    if event in ("rate", "add_comment"):
        _probe_feedback(seat, event, expected)
        return
    values: list[Any] = {
        "respond": [ANSWERED, []],
        "enter": [MEMBER[0], MEMBER[2]],
        "refresh_1": [],
    }.get(event, ["laser", ""])
    succeeded, output = _page_event(seat, event, values)
    if expected not in (ALLOWED, SKIPPED):
        assert not succeeded and output["error"] == expected
        return
    assert succeeded, output
    data = output["data"]
    if expected == SKIPPED:
        assert all(_bare_update(item) for item in data), data
        return
    shown = json.dumps(data)
    assert not all(_bare_update(item) for item in data)
    expected_text = {
        "respond": "[1]",
        "enter": "Signed in as **bob** (member).",
        "refresh_1": "added",
    }.get(event, "laser-cutter-safety.md")
    assert expected_text in shown, shown[:500]


def _probe_feedback(seat: Seat, event: str, expected: str) -> None:
    """👍 on the session's own answer, then (for add_comment) a comment the maintainers read."""
    assert expected == ALLOWED
    seat.client.predict(ANSWERED, [], api_name="/ask")
    liked = {"index": 1, "value": "", "liked": True}
    succeeded, output = _page_event(seat, "rate", [], event_data=liked)
    assert succeeded and output["data"][1] == "Thanks! Add a comment below if you like.", output
    if event == "rate":
        return
    comment = f"access check comment {uuid.uuid4().hex[:8]}"
    succeeded, output = _page_event(seat, "add_comment", [comment])
    assert succeeded and output["data"][1] == "Comment saved. Thank you.", output
    assert comment in seat.maintainer.predict(api_name="/maintainers")[1]


def _page_event(
    seat: Seat, event: str, values: list[Any], event_data: dict | None = None
) -> tuple[bool, dict]:
    """Trigger a private event as the page's JavaScript does: by its index, in the session.

    `values` fill the event's inputs in order, skipping `gr.State` inputs, which the server
    fills from the session whatever is sent.
    """
    config = seat.client.config
    dependency = _private_events(config)[event]
    kinds = {c["id"]: c["type"] for c in config["components"]}
    given = iter(values)
    data = [None if kinds[i] == "state" else next(given) for i in dependency["inputs"]]
    session = seat.client.session_hash
    api = seat.url.rstrip("/") + "/gradio_api"
    joined = httpx.post(
        f"{api}/queue/join",
        json={"data": data, "fn_index": dependency["id"], "session_hash": session,
              "event_data": event_data, "trigger_id": None},
        timeout=30,
    )  # fmt: skip
    joined.raise_for_status()
    event_id = joined.json()["event_id"]
    with httpx.stream(
        "GET", f"{api}/queue/data", params={"session_hash": session}, timeout=300
    ) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[len("data:") :])
            if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                return bool(message["success"]), message["output"]
    raise AssertionError(f"the page never completed {event}")


def _bare_update(item: Any) -> bool:
    """An output that changes nothing (`gr.skip()`), so it shows nothing to the session."""
    return item in ({"__type__": "update"}, {"__type__": "update", "props": {"__type__": "update"}})


def _private_events(config: dict) -> dict[str, dict]:
    return {
        d["api_name"]: d
        for d in config["dependencies"]
        if d.get("api_visibility") == "private" and d.get("backend_fn")
    }


def _named_endpoints(url: str) -> set[str]:
    """Every endpoint a client may call by name, documented or not."""
    info = httpx.get(url.rstrip("/") + "/gradio_api/info", params={"all_endpoints": "true"})
    info.raise_for_status()
    return set(info.json()["named_endpoints"])


PROBES = {
    "/ask": _probe_ask,
    "/load_example": _probe_load_example,
    "/upload": _probe_upload,
    "/library": _probe_library,
    "/delete": _probe_delete,
    "/maintainers": _probe_maintainers,
    "/export_gaps": _probe_export_gaps,
    "/sign_in": _probe_sign_in,
    "/sign_out": _probe_sign_out,
}


@pytest.fixture(scope="module")
def signed_in() -> dict[tuple[str, str], Client]:
    """The maintainer's and the member's sessions that look around, one per page."""
    return {}


@pytest.fixture
def seat(
    request: pytest.FixtureRequest, tmp_path: Path, signed_in: dict[tuple[str, str], Client]
) -> Seat:
    """A fresh session of the cell's role on its page (a sign-out must not leak to others)."""
    role = request.param
    url = request.getfixturevalue("closed_app_url" if role in CLOSED else "app_url")
    for account in (MAINTAINER, MEMBER):
        if (url, account[0]) not in signed_in:
            signed_in[url, account[0]] = page_client(url, account)
    return Seat(role, url, page_client(url, ACCOUNTS.get(role)), signed_in[url, MAINTAINER[0]],
                signed_in[url, MEMBER[0]], tmp_path)  # fmt: skip


def test_the_table_covers_every_endpoint_of_the_page(app_url: str) -> None:
    named = _named_endpoints(app_url)
    private = {PRIVATE + name for name in _private_events(Client(app_url, verbose=False).config)}
    assert {endpoint for endpoint, _, _ in TABLE} == named | private
    for endpoint in named:
        roles = {role for e, role, _ in TABLE if e == endpoint}
        assert roles >= ROLES_OF_EVERY_NAMED_ENDPOINT, endpoint
    assert all(any(e == p and r == GUEST for e, r, _ in TABLE) for p in private)
    assert len({(e, r) for e, r, _ in TABLE}) == len(TABLE)  # one expectation per cell
    print(f"\naccess table: {len(TABLE)} cells, {len(named)} named endpoints and "
          f"{len(private)} private events x {len({r for _, r, _ in TABLE})} roles")  # fmt: skip


def test_the_closed_page_has_the_same_endpoints(app_url: str, closed_app_url: str) -> None:
    assert _named_endpoints(closed_app_url) == _named_endpoints(app_url)


@pytest.mark.parametrize(
    ("endpoint", "seat", "expected"),
    TABLE,
    indirect=["seat"],
    ids=[f"{e}|{r}|{'refused' if x not in (ALLOWED, SKIPPED) else x}" for e, r, x in TABLE],
)
def test_each_role_gets_what_the_table_says(endpoint: str, seat: Seat, expected: str) -> None:
    if endpoint.startswith(PRIVATE):
        _probe_private(seat, endpoint.removeprefix(PRIVATE), expected)
    else:
        PROBES[endpoint](seat, expected)


def test_private_events_cannot_be_called_by_name(app_url: str) -> None:
    client = page_client(app_url, MAINTAINER)  # even for a maintainer
    events = _private_events(client.config)
    assert {"respond", "rate", "add_comment", "enter", "listing"} <= set(events)
    for name, dependency in events.items():
        with pytest.raises(ValueError, match="Cannot find a function with `api_name`"):
            client.predict(api_name=f"/{name}")
        with pytest.raises(ValueError, match="Invalid function index"):
            client.predict(fn_index=dependency["id"])
