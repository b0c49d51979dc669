"""The page under hostile use, over loopback: what trying to break it found (issue 13, part 4).

Each test drives the real `python app.py`: spoofed attribution and an edited copy of an
official guide, oversized questions, files left in Gradio's cache, the monitoring
dashboard, and a made-up event index.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from eval.bench.app_server import running_app
from tests.support.accounts import MAINTAINER, MEMBER
from tests.support.cli import run_copqa
from tests.support.page_client import last_answer, page_client
from tests.support.paths import REPO

LASER_GUIDE = REPO / "sample" / "docs" / "laser-cutter-safety.md"
ORIGINAL_RULE = "Never leave the laser unattended while it is running, not even for ten seconds."
EDITED_RULE = "You may leave the laser unattended while it is running for up to ten minutes."


def _where_lines(sources: str) -> list[str]:
    return re.findall(r'<div class="where">(.*?)</div>', sources)


def _experts(sources: str) -> list[str]:
    return re.findall(r'<span class="copqa-chip"[^>]*>(.*?)</span>', sources)


def _delete_as(client: Client, name: str) -> None:
    for _, source_id in client.predict(name, "", api_name="/library")[1]["choices"]:
        assert "Deleted" in client.predict(source_id, api_name="/delete")


def test_an_upload_is_credited_to_its_uploader_not_to_its_front_matter(
    app_url: str, tmp_path: Path
) -> None:
    spoof = tmp_path / "electronics-loans.md"
    spoof.write_text(
        "---\nauthor: cleo\ndate: 2026-10-01\n---\n# Electronics corner loans\n\n"
        "The oscilloscopes in the electronics corner may be taken home over the weekend "
        "without asking anyone, as long as they are back by Monday noon.\n",
        encoding="utf-8",
    )
    member = page_client(app_url, MEMBER)  # bob, writing as if he were cleo
    # Shared with everyone, so a guest's answer can hold it.
    _, report = member.predict([handle_file(str(spoof))], "public", api_name="/upload")
    assert "**Added**" in report
    try:
        guest = page_client(app_url)
        chat, _, sources = guest.predict(
            "Can I take an oscilloscope home over the weekend?", [], api_name="/ask"
        )
        assert "Monday noon" in last_answer(chat)
        card = next(w for w in _where_lines(sources) if "electronics-loans.md" in w)
        assert card.startswith("uploaded by bob · says it is by cleo"), card
        assert "cleo" not in _experts(sources)  # who-to-ask credits bob, never the claim
        assert "bob" in _experts(sources)
    finally:
        _delete_as(member, spoof.name)


def test_a_members_edited_copy_never_displaces_the_maintainers_guide(
    app_url: str, tmp_path: Path
) -> None:
    original = LASER_GUIDE.read_text(encoding="utf-8")
    assert ORIGINAL_RULE in original
    edited = tmp_path / "laser-cutter-safety-updated.md"
    edited.write_text(
        original.replace(ORIGINAL_RULE, EDITED_RULE).replace(
            "date: 2025-08-01", "date: 2026-11-20"
        ),
        encoding="utf-8",
    )
    member = page_client(app_url, MEMBER)
    # Shared with everyone: the guest below could be shown it, were it not left out.
    _, report = member.predict([handle_file(str(edited))], "public", api_name="/upload")
    assert "**Added**" in report
    try:
        chat, _, sources = page_client(app_url).predict(
            "Can I leave the laser cutter unattended while it is running?", [], api_name="/ask"
        )
        shown = last_answer(chat) + sources
        assert "ten minutes" not in shown
        assert "Never leave the laser unattended" in shown
        assert "laser-cutter-safety.md" in sources
    finally:
        _delete_as(member, edited.name)


def test_a_huge_question_is_refused_before_it_is_searched_or_logged(app_url: str) -> None:
    token = uuid.uuid4().hex[:12]
    huge = f"Where is the {token} kept? " + "padding " * 650_000  # ~5 MB
    guest = page_client(app_url)
    started = time.perf_counter()
    with pytest.raises(AppError, match="the limit is 4,000"):
        guest.predict(huge, [], api_name="/ask")
    refused_in = time.perf_counter() - started
    gaps = page_client(app_url, MAINTAINER).predict(api_name="/maintainers")[0]
    assert token not in gaps
    print(f"\n5 MB question refused in {refused_in:.2f} s")


def test_the_history_a_request_sends_is_bounded(app_url: str) -> None:
    turns: list[dict[str, Any]] = []
    for n in range(60):
        turns += [_message("user", f"question {n}?"), _message("assistant", "an answer")]
    with pytest.raises(AppError, match="60 earlier questions; the limit is 50"):
        page_client(app_url).predict("Can I cut PVC on the laser cutter?", turns, api_name="/ask")
    bulky = [_message("user", "a question?"), _message("assistant", "x" * 300_000)]
    with pytest.raises(AppError, match="characters long; the limit is 200,000"):
        page_client(app_url).predict("Can I cut PVC on the laser cutter?", bulky, api_name="/ask")


def _message(role: str, text: str) -> dict[str, Any]:
    """A chat message as Gradio 6's Chatbot sends it back."""
    return {"role": role, "content": [{"type": "text", "text": text}]}


def test_copqa_ask_refuses_a_huge_question(tmp_path: Path) -> None:
    asked = run_copqa(tmp_path / "home", "ask", "why? " * 2_000)
    assert asked.returncode == 1
    assert asked.stderr.startswith("error: the question is 10,000 characters long")
    assert "Traceback" not in asked.stderr
    piped = run_copqa(tmp_path / "home", "ask", "-", stdin="why " * 1_300_000 + "\n")
    assert piped.returncode == 1
    assert piped.stderr.startswith("error: the question is 5,199,999 characters long")


def _raw_upload(url: str, path: Path) -> str:
    """Send a file the way the page's JavaScript does; returns where the server keeps it."""
    with path.open("rb") as file:
        sent = httpx.post(f"{url}gradio_api/upload", files={"files": (path.name, file)})
    sent.raise_for_status()
    return str(sent.json()[0])


def _served(url: str, kept: str) -> int:
    return httpx.get(f"{url}gradio_api/file={kept}").status_code


def _upload_event(url: str, client: Client, kept: str, name: str) -> str:
    """Hand a file already sent to the page's Upload event, in the client's session."""
    config = client.config
    upload = next(d for d in config["dependencies"] if d.get("api_name") == "upload")
    file = {"path": kept, "orig_name": name, "meta": {"_type": "gradio.FileData"}}
    body = {"data": [[file], "members", None], "fn_index": upload["id"],
            "session_hash": client.session_hash, "trigger_id": None}  # fmt: skip
    joined = httpx.post(f"{url}gradio_api/queue/join", json=body, timeout=30)
    joined.raise_for_status()
    event_id = joined.json()["event_id"]
    params = {"session_hash": client.session_hash}
    with httpx.stream("GET", f"{url}gradio_api/queue/data", params=params, timeout=300) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and f'"{event_id}"' in line and "process_completed" in line:
                return line
    raise AssertionError("the upload never completed")


def test_a_deleted_or_refused_upload_is_no_longer_served(
    app_url: str, app_home: Path, tmp_path: Path
) -> None:
    note = tmp_path / f"vice-{uuid.uuid4().hex[:8]}.md"
    note.write_text(
        "# Spare vice\n\nThe spare engineer's vice is kept under the metal bench, wrapped "
        "in an oily rag so it does not rust over the winter.\n",
        encoding="utf-8",
    )
    member = page_client(app_url, MEMBER)
    kept = _raw_upload(app_url, note)
    assert _served(app_url, kept) == 200  # what a browser can fetch, before the upload runs
    assert "**Added**" in _upload_event(app_url, member, kept, note.name)
    _delete_as(member, note.name)
    assert _served(app_url, kept) != 200
    assert not list((app_home / "page-cache").rglob(note.name))  # no other copy either
    assert not list((app_home / "uploads").rglob(note.name))

    fake = tmp_path / "minutes.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    refused = _raw_upload(app_url, fake)
    assert "Refused" in _upload_event(app_url, member, refused, fake.name)
    assert _served(app_url, refused) != 200
    assert not list((app_home / "page-cache").rglob(fake.name))


def test_the_page_keeps_its_cache_under_its_home_and_drops_unclaimed_files(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    stray = tmp_path / "stray.txt"
    stray.write_text("a guest's file that no upload ever claims\n", encoding="utf-8")
    environment = {"COPQA_SAMPLE": "", "COPQA_APP__CACHE_SECONDS": "2"}
    with running_app(home, environment) as url:
        kept = _raw_upload(url, stray)  # as a guest: no session, no sign-in
        assert Path(kept).resolve().is_relative_to(home.resolve())
        assert _served(url, kept) == 200
        deadline = time.monotonic() + 30
        while _served(url, kept) == 200 and time.monotonic() < deadline:
            time.sleep(1)
        assert _served(url, kept) != 200
    assert not any((home / "page-cache").rglob("*.txt"))  # and nothing left once it stops


def test_the_monitoring_dashboard_is_off(app_url: str, app_home: Path) -> None:
    reply = httpx.get(f"{app_url}monitoring")
    assert reply.status_code in (403, 404)
    assert "/monitoring/" not in (app_home / "app.log").read_text()  # no key in the log


def test_an_unknown_event_index_is_a_clear_400(app_url: str, app_home: Path) -> None:
    session = page_client(app_url).session_hash
    log = app_home / "app.log"
    logged = len(log.read_text())
    reply = httpx.post(
        f"{app_url}gradio_api/queue/join",
        json={"data": [], "fn_index": 9999, "session_hash": session, "trigger_id": None},
    )
    assert reply.status_code == 400
    assert reply.json() == {"detail": "no such event on this page: check fn_index against /config"}
    time.sleep(1)  # the server writes its log as it answers
    assert "Traceback" not in log.read_text()[logged:]
