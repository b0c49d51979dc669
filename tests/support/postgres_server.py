"""A real PostgreSQL on a free loopback port, for tests: `initdb` into a temp folder, `pg_ctl start`.

PostgreSQL refuses to run as root, so under root (CI containers) the server runs as the
`postgres` system user that Debian's package creates, in a folder that user owns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from eval.bench.app_server import free_port

SUPERUSER = "copqa"


def _tool(name: str) -> str:
    """A server binary: Debian keeps them per major version, off PATH; the newest wins."""
    installed = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_major)
    found = str(installed[-1]) if installed else shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"{name} not found: install Debian's postgresql package (`make postgres`)"
        )
    return found


def _major(binary: Path) -> int:
    return int(binary.parts[-3]) if binary.parts[-3].isdigit() else 0


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_postgres(timeout: int = 60) -> Iterator[str]:
    """Serve a fresh cluster on 127.0.0.1; yields its URL (no database), stops it afterwards.

    Trust authentication on loopback only; fsync is off, since a test cluster never outlives
    its run.

    Raises:
        RuntimeError: The binaries are missing, or the server did not start (its log is in the message).
    """
    folder = Path(tempfile.mkdtemp(prefix="copqa-postgres-"))
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:  # pytest's own temp folders are root's alone: use one postgres owns
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = free_port()
    try:
        _run(_tool("initdb"), "-D", data, "-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8")
        options = f"-k {sockets} -p {port} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
        start = ["-o", options, "-l", log, "-w", "-t", timeout, "start"]
        _run(_tool("pg_ctl"), "-D", data, *start, log=log)
        try:
            yield f"postgresql://{SUPERUSER}@127.0.0.1:{port}"
        finally:
            _run(_tool("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database with a unique name on the server; returns its URL."""
    name = f"copqa_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{server_url}/{name}"


def _run(*command: object, log: Path | None = None) -> None:
    """Run a server tool as the user the server runs as; raise with its output (and log) on failure."""
    words = [str(c) for c in command]
    done = subprocess.run(_as_server_user(words), capture_output=True, text=True)
    if done.returncode != 0:
        shown = log.read_text() if log and log.exists() else ""
        raise RuntimeError(f"{' '.join(words)} failed:\n{done.stdout}{done.stderr}{shown}")
