"""The chat page as a user meets it: `python app.py` on the sample community, asked over its API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path_factory.mktemp("app-home")
    env = {**os.environ, "COPQA_HOME": str(home), "COPQA_PORT": str(port)}
    log = home / "app.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, str(REPO / "app.py")], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"app.py did not serve the page:\n{log.read_text()}")
        time.sleep(1)
    yield url
    server.terminate()
    server.wait(timeout=30)


def test_the_page_answers_with_citations_from_the_sample(page: str) -> None:
    from gradio_client import Client

    client = Client(page, verbose=False)
    history, cleared, sources = client.predict(
        "Can I cut PVC on the laser cutter?", [], api_name="/ask"
    )
    assert cleared == ""
    assert history[-1]["role"] == "assistant"
    assert "[1]" in str(history[-1]["content"])
    assert "laser-cutter-safety.md" in sources and "Who to ask:" in sources


def test_member_text_is_escaped_in_citations() -> None:
    sys.path.insert(0, str(REPO))
    from app import citations_html
    from copqa.models import Answer, Chunk, Citation

    evil = Chunk(
        id="d:0", document_id="d", source_id="s", kind="slack", title="<img src=x onerror=alert(1)>",
        text="<script>alert('x')</script> see <a href='javascript:alert(1)'>this</a>",
        author="Mallory", url="javascript:alert(1)",
    )  # fmt: skip
    rendered = citations_html(Answer("q", "a [1]", True, 0.9, citations=(Citation(1, evil, 0.9),)))
    assert "<script>" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;" in rendered
    assert 'href="javascript:' not in rendered
