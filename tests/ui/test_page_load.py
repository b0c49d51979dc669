"""The running page under mixed use: guests asking while a member uploads and deletes.

Askers embed their questions while the upload's chunker counts word pieces in the same
process: the page must answer every question, with no error, through all of it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from eval.bench.app_server import running_app
from tests.support.accounts import MEMBER
from tests.support.cli import run_copqa
from tests.support.files import write_files
from tests.support.page_client import last_answer, page_client

ASKERS = 3
MOST_QUESTIONS_EACH = 40  # askers go on until the uploads and the deletion are done
UPLOADS = 3
FILES_PER_UPLOAD = 4
QUESTIONS = (
    "What settings cut 3 mm birch plywood on Cormorant?",
    "How much does Keyholder membership cost, and who can get it?",
    "Which day is the ceramics kiln fired?",
)
KILN = "# Kiln\n\nThe ceramics kiln is fired on Thursdays; load it by Wednesday evening.\n"


def _note(n: int) -> str:
    """Shelf notes and a stock list pasted as one run-on line: the splitter cuts that word by
    word, counting the pieces of each, so chunking it takes a while (~0.4 s here)."""
    paragraphs = [
        f"Shelf {n}-{p} holds the spare belts, fuses and bearings of machine {n}; "
        f"check the log book before taking part {p}, and write down what you took."
        for p in range(10)
    ]
    stock = " and ".join(f"bin {n}-{i} holds belts and fuses and bearings" for i in range(60))
    return f"# Shelf notes {n}\n\n" + "\n\n".join([*paragraphs, stock]) + "\n"


@pytest.fixture(scope="module")
def busy_page(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A page of its own (the sample ingested on first start) and a member account."""
    home = tmp_path_factory.mktemp("busy-home")
    name, role, password = MEMBER
    added = run_copqa(
        home, "members", "add", name, "--role", role, "--password-stdin", stdin=password + "\n"
    )
    assert added.returncode == 0, added.stderr
    with running_app(home) as url:
        yield url, home


def test_guests_ask_while_a_member_uploads_and_deletes(busy_page, tmp_path: Path) -> None:
    url, home = busy_page
    member = page_client(url, MEMBER)
    kiln = write_files(tmp_path / "kiln", {"kiln.md": KILN}) / "kiln.md"
    _, report = member.predict([handle_file(str(kiln))], api_name="/upload")
    assert "**Added**" in report
    [(_, kiln_id)] = member.predict("kiln.md", "", api_name="/library")[1]["choices"]
    askers = [Client(url, verbose=False) for _ in range(ASKERS)]
    answered: list[str] = []
    errors: list[str] = []
    uploading, written = threading.Event(), threading.Event()

    def ask(client: Client, offset: int) -> None:
        uploading.wait(timeout=60)
        for n in range(MOST_QUESTIONS_EACH):
            if written.is_set() and n > 0:
                return
            try:
                chat, _, _ = client.predict(
                    QUESTIONS[(offset + n) % len(QUESTIONS)], [], api_name="/ask"
                )
                answered.append(last_answer(chat))
            except Exception as exc:  # every failure is counted and shown, none stops the run
                errors.append(f"ask: {exc!r}")

    def upload() -> None:
        uploader = page_client(url, MEMBER)
        for batch in range(UPLOADS):
            names = {
                f"shelf-{batch}-{i}.md": _note(batch * 10 + i) for i in range(FILES_PER_UPLOAD)
            }
            folder = write_files(tmp_path / f"batch-{batch}", names)
            uploading.set()
            try:
                _, report = uploader.predict(
                    [handle_file(str(folder / n)) for n in names], api_name="/upload"
                )
                if "**Added**" not in report:
                    errors.append(f"upload {batch}: {report}")
            except Exception as exc:
                errors.append(f"upload {batch}: {exc!r}")

    def delete() -> None:
        uploading.wait(timeout=60)
        try:
            outcome = member.predict(kiln_id, api_name="/delete")
            if "Deleted" not in outcome:
                errors.append(f"delete: {outcome}")
        except Exception as exc:
            errors.append(f"delete: {exc!r}")

    writers = [threading.Thread(target=upload), threading.Thread(target=delete)]
    threads = [threading.Thread(target=ask, args=(c, n)) for n, c in enumerate(askers)]
    threads += writers
    for thread in threads:
        thread.start()
    for thread in writers:
        thread.join(timeout=600)
    written.set()
    for thread in threads:
        thread.join(timeout=600)
    print(f"\npage under load: {len(answered)} questions answered, {len(errors)} errors")
    log = (home / "app.log").read_text(errors="replace")
    for line in [*errors, *(line for line in log.splitlines() if "Error" in line)][:6]:
        print(f"  {line}")
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(answered) >= ASKERS
    shelves = member.predict("shelf-", "", api_name="/library")[1]["choices"]
    assert len(shelves) == UPLOADS * FILES_PER_UPLOAD
    assert member.predict("kiln.md", "", api_name="/library")[1]["choices"] == []
    assert "Unable to create tensor" not in log
