"""A real `chroma run` on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.app_server import free_port

CHROMA = Path(sys.executable).with_name("chroma")


@contextmanager
def running_chroma(path: Path, timeout: float = 30) -> Iterator[str]:
    """Serve a Chroma database kept in `path`; yields its URL, stops the server afterwards.

    Raises:
        RuntimeError: The server did not answer its heartbeat in time (its log is in the message).
    """
    path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = path.parent / f"{path.name}.chroma.log"
    environment = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/api/v2/heartbeat", server, log, timeout)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(
                f"`chroma run` did not answer {url} within {timeout:.0f} s:\n{log.read_text()}"
            )
        time.sleep(0.1)
