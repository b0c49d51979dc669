"""Memory of the app process serving a large store: peak RSS after warm questions.

`python app.py` is started as a user starts it, over the stores the latency benchmark
built (10k and 100k chunks of the real exports), and asked the latency questions through
the page's API. The kernel's high-water mark (`VmHWM`) is the peak resident set of the
whole process: model, vector index, BM25 index, catalog pages and the web server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gradio_client import Client

from eval.bench.app_server import app_process
from eval.bench.latency import QUESTIONS

TARGET_GB = 2.5


@dataclass(frozen=True)
class Footprint:
    chunks: int
    started_mb: float  # resident once the page serves
    peak_mb: float  # high-water mark after the questions


def run(stores: dict[int, Path]) -> list[Footprint]:
    """Serve each store (size in chunks → its home) in turn and measure the app's memory."""
    return [_measure(chunks, home) for chunks, home in stores.items()]


def _measure(chunks: int, home: Path) -> Footprint:
    # Not the sample: these homes already hold their corpus.
    with app_process(home, {"COPQA_SAMPLE": ""}) as (url, server):
        started_mb = _status_mb(server.pid, "VmRSS")
        client = Client(url, verbose=False)
        try:
            for question in QUESTIONS:
                client.predict(question, [], api_name="/ask")
        finally:
            client.close()
        peak_mb = _status_mb(server.pid, "VmHWM")
    return Footprint(chunks, started_mb, peak_mb)


def _status_mb(pid: int, field: str) -> float:
    """A `/proc/PID/status` memory field (reported in kB) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def report(footprints: list[Footprint]) -> str:
    lines = [f"app memory (python app.py serving the store, after {len(QUESTIONS)} questions)"]
    for f in footprints:
        verdict = "meets" if f.peak_mb / 1024 <= TARGET_GB else "MISSES"
        lines.append(
            f"  {f.chunks:>7,} chunks: {f.started_mb:6.0f} MB once serving, peak RSS "
            f"{f.peak_mb:6.0f} MB ({f.peak_mb / 1024:.2f} GB; {verdict} the {TARGET_GB} GB target)"
        )
    return "\n".join(lines)
