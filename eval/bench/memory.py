"""Ingestion memory against export size: peak RSS for one copy of an export and for three.

Ingestion streams (loaders yield a thread at a time, a channel's worth at most; the
pipeline embeds and writes a batch of ~512 chunks at a time), so its peak should not grow
with the export. Each ingestion runs in a fresh child process, which reports:

- its baseline, the peak once the model is loaded and the store is open;
- its streaming peak, at the last progress step (every document read, embedded, written);
- its peak at the end, after the keyword index is rebuilt over the whole store.

The copies are the same Slack export under different team ids, so no id is shared and
every copy is new to the store. Channels are taken in name order up to `max_mb` of day
files, to keep the benchmark to a few minutes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COPIES = (1, 3)


def run(export: Path, max_mb: float) -> dict[str, dict[str, float]]:
    """Per number of copies, the child's figures (kB and seconds)."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="copqa-bench-memory-") as scratch:
        root = Path(scratch)
        for copies in COPIES:
            sources = [
                _copy_export(export, root / f"exports-{copies}" / f"workspace-{n}", n, max_mb)
                for n in range(copies)
            ]
            home = root / f"home-{copies}"
            child = subprocess.run(
                [sys.executable, "-m", "eval.bench.memory", str(home), *map(str, sources)],
                check=True,
                capture_output=True,
                text=True,
            )
            results[f"{copies}x"] = json.loads(child.stdout.strip().splitlines()[-1])
    return results


def _copy_export(export: Path, target: Path, number: int, max_mb: float) -> Path:
    """A copy of the Slack export whose team id (and so every document id) is its own."""
    target.mkdir(parents=True)
    users = json.loads((export / "users.json").read_text())
    for user in users:
        user["team_id"] = f"{user.get('team_id', 'T')}-copy{number}"
    (target / "users.json").write_text(json.dumps(users))
    shutil.copy(export / "channels.json", target / "channels.json")
    budget = max_mb * 2**20
    for channel in sorted(p for p in export.iterdir() if p.is_dir()):
        size = sum(f.stat().st_size for f in channel.glob("*.json"))
        if size > budget:
            continue
        shutil.copytree(channel, target / channel.name)
        budget -= size
    return target


def report(export: Path, max_mb: float, results: dict[str, dict[str, float]]) -> str:
    one, three = results["1x"], results["3x"]
    lines = [f"ingest memory on {export} (channels up to {max_mb:g} MB of day files; peak RSS)"]
    for label, figures in results.items():
        lines.append(
            f"  {label}: {figures['documents']:.0f} threads, {figures['chunks']:.0f} chunks "
            f"in {figures['seconds']:.0f} s; baseline {figures['baseline_kb'] / 1024:.0f} MB, "
            f"streaming peak {figures['streaming_kb'] / 1024:.0f} MB, "
            f"with the keyword index rebuilt {figures['peak_kb'] / 1024:.0f} MB"
        )
    for key, what in (("streaming_kb", "streaming"), ("peak_kb", "with the keyword index")):
        above = [(r[key] - r["baseline_kb"]) / 1024 for r in (one, three)]
        lines.append(
            f"  3x / 1x peak, {what:22}: {three[key] / one[key]:.2f}   (target <= 1.15); "
            f"above the baseline {above[0]:.0f} MB -> {above[1]:.0f} MB"
        )
    return "\n".join(lines)


def _peak_kb() -> float:
    """This process's peak resident set so far (VmHWM), in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: this benchmark needs Linux")


def _child(home: Path, sources: list[Path]) -> dict[str, float]:
    """Ingest `sources` into a new store at `home`, noting the peak RSS along the way."""
    from copqa.embedding import Embedder
    from copqa.settings import Settings
    from copqa.store import Store
    from ingest.factory import build_pipeline
    from ingest.pipeline import IngestProgress

    settings = Settings(home=home)
    embedder = Embedder.from_settings(settings)
    embedder.embed(["warm up the model once"])
    store = Store(settings.home, embedder.identity, embedder.dimension)
    pipeline = build_pipeline(settings, store, embedder)
    baseline = _peak_kb()
    streaming = baseline

    def progress(step: IngestProgress) -> None:
        nonlocal streaming
        streaming = _peak_kb()

    started = time.perf_counter()
    ingested = pipeline.ingest(sources, progress=progress)
    seconds = time.perf_counter() - started
    store.close()
    return {
        "documents": float(ingested.added),
        "chunks": float(ingested.chunks),
        "seconds": seconds,
        "baseline_kb": baseline,
        "streaming_kb": streaming,
        "peak_kb": _peak_kb(),
    }


if __name__ == "__main__":
    from copqa.offline import enforce_offline

    enforce_offline()
    figures = _child(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
    print(json.dumps(figures))
