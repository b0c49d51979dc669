"""copqa ingests and answers with the network unreachable, and never tries to reach it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_copqa
from tests.support.paths import REPO

NO_NETWORK = Path(__file__).with_name("no_network")


def test_ingest_and_ask_make_no_connection(tmp_path: Path) -> None:
    log = tmp_path / "connections.log"
    log.touch()
    env = {"PYTHONPATH": str(NO_NETWORK), "COPQA_TEST_CONNECTION_LOG": str(log)}
    ingest = run_copqa(tmp_path / "home", "ingest", str(REPO / "sample/docs"), "--json", env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["added"] == 6
    ask = run_copqa(tmp_path / "home", "ask", "Can I cut PVC on the laser?", "--json", env=env)
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["citations"]
    assert log.read_text() == ""


def test_the_guard_itself_catches_a_connection(tmp_path: Path) -> None:
    """Proves the test above could fail: a real connection attempt is logged."""
    import subprocess
    import sys

    log = tmp_path / "connections.log"
    env = {"PYTHONPATH": str(NO_NETWORK), "COPQA_TEST_CONNECTION_LOG": str(log)}
    code = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 443), timeout=1)\nexcept OSError:\n    pass"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert "192.0.2.1" in log.read_text()
