"""A real `chroma run` on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eval.bench.app_server import free_port, stop, wait_until_serving

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
    heartbeat = f"{url}/api/v2/heartbeat"
    try:
        failure = f"`chroma run` did not answer {heartbeat} within {timeout:.0f} s"
        wait_until_serving(heartbeat, server, log, timeout, failure, poll=0.1)
        yield url
    finally:
        stop(server, grace=10)
