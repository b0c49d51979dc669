"""`python app.py` started as a user starts it, on a free loopback port, for benchmarks and tests.

It starts the checkout's `app.py`, so the serving and load benchmarks run from a checkout.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port where nobody listens for as long as the block runs.

    Bound but never listening: connecting is refused at once, and no other process on the
    machine (another test run) can start a server there meanwhile, as it could on a port
    `free_port` merely found free.
    """
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@contextmanager
def running_app(
    home: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> Iterator[str]:
    """Serve the page from `home`; yields its URL, stops the server afterwards.

    Raises:
        RuntimeError: The page did not come up (the server's log is in the message).
    """
    with app_process(home, env, timeout) as (url, _):
        yield url


@contextmanager
def app_process(
    home: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`running_app`, yielding the server process too (for benchmarks that measure it)."""
    port = free_port()
    environment = {**os.environ, "COPQA_HOME": str(home), "COPQA_PORT": str(port), **(env or {})}
    log = home / "app.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, str(REPO / "app.py")],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        # Another process may take the port between free_port and the bind: then app.py
        # exits, and the page answering there is not ours. Ours says where it runs.
        ours = f"Running on local URL:  http://127.0.0.1:{port}"
        wait_until_serving(url, server, log, timeout, "app.py did not serve the page", ours=ours)
        yield url, server
    finally:
        stop(server, grace=30)


def wait_until_serving(
    url: str,
    server: subprocess.Popen,
    log: Path,
    timeout: float,
    failure: str,
    poll: float = 1,
    ours: str | None = None,
) -> None:
    """Return once `url` answers 200 (and the server's log holds `ours`, when given); kill
    the server and raise with its log if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200 and (ours is None or ours in log.read_text()):
                    return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"{failure}:\n{log.read_text()}")
        time.sleep(poll)


def stop(server: subprocess.Popen, grace: float) -> None:
    """Ask the server to stop; kill it if it is still running after `grace` seconds."""
    server.terminate()
    try:
        server.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
