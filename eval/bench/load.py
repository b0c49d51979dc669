"""Concurrent askers on the running page: answers/s, p50/p95 latency and errors per level.

`python app.py` is started as a user starts it, on loopback, with a fresh home (its first
start ingests the sample community). Then, for each level (1, 4, 16 askers by default),
every asker is a thread with its own Gradio client asking the sample's questions round
robin for a fixed time; calls in flight when the time is up are waited for and count.
More askers than the server answers at once (`COPQA_APP__ASK_CONCURRENCY`) must queue,
not fail: the target is zero errors at every level.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gradio_client import Client

from copqa.settings import Settings
from eval.bench.app_server import running_app

# sample/README.md: six questions the sample answers, then two it does not.
QUESTIONS = (
    "How much does Keyholder membership cost, and who can get it?",
    "Can I cut vinyl-coated fabric on the laser cutter, and if not, what should I use instead?",
    "What settings cut 3 mm birch plywood on Cormorant?",
    "Kraken 2's first layer stopped sticking after the nozzle swap. Which Z offset should I use?",
    "What was decided about the CNC router at the September 2025 meeting, "
    "and when are the first CNC inductions?",
    "As a keyholder, may I use the table saw or the bandsaw at 23:00?",
    "What is the Wi-Fi password at the space?",
    "Does the guild run welding courses?",
)
# A call still running this long after its level ended counts as an error, so a stuck
# server cannot hang the benchmark.
GRACE_SECONDS = 120.0


@dataclass(frozen=True)
class Call:
    seconds: float
    error: str | None


@dataclass(frozen=True)
class Level:
    askers: int
    answered: int
    errors: int
    seconds: float  # from the start until the last call in flight came back
    p50_ms: float
    p95_ms: float
    error_examples: tuple[str, ...]

    @property
    def answers_per_s(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class LoadResult:
    seconds_per_level: float
    startup_s: float  # until the page served, the sample's ingest included
    ask_concurrency: int
    max_queue: int
    levels: tuple[Level, ...]
    server_problems: tuple[str, ...]  # lines of app.log that look like errors


def run(askers: tuple[int, ...] = (1, 4, 16), seconds: float = 60.0) -> LoadResult:
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="copqa-bench-load-") as home:
        started = time.perf_counter()
        with running_app(Path(home)) as url:
            startup_s = time.perf_counter() - started
            warm = Client(url, verbose=False)
            try:
                _ask(warm, QUESTIONS[0])  # warm: model, indexes, caches
            finally:
                warm.close()
            levels = tuple(_level(url, n, seconds) for n in askers)
        log = (Path(home) / "app.log").read_text(errors="replace")
    problems = tuple(
        line
        for line in log.splitlines()
        if any(word in line for word in ("Traceback", "Error", "ERROR", "Exception"))
    )
    return LoadResult(
        seconds_per_level=seconds,
        startup_s=startup_s,
        ask_concurrency=settings.app.ask_concurrency,
        max_queue=settings.app.max_queue,
        levels=levels,
        server_problems=problems,
    )


def _level(url: str, askers: int, seconds: float) -> Level:
    clients = [Client(url, verbose=False) for _ in range(askers)]
    go, stop = threading.Event(), threading.Event()
    calls: list[Call] = []  # appended to from every asker; list.append is atomic
    threads = [
        threading.Thread(
            target=_asker, args=(client, offset, go, stop, calls), daemon=True
        )  # daemon: a call stuck past the grace time must not keep the process alive
        for offset, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    go.set()
    time.sleep(seconds)
    stop.set()
    deadline = time.monotonic() + GRACE_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    elapsed = time.perf_counter() - started
    stuck = sum(thread.is_alive() for thread in threads)
    for client in clients:
        client.close()
    done = list(calls)
    done += [Call(elapsed, f"no reply {GRACE_SECONDS:.0f} s after the level ended")] * stuck
    latencies = [call.seconds for call in done if call.error is None]
    errors = [call.error for call in done if call.error is not None]
    p50, p95 = _p50_p95(latencies)
    return Level(
        askers=askers,
        answered=len(latencies),
        errors=len(errors),
        seconds=elapsed,
        p50_ms=1000 * p50,
        p95_ms=1000 * p95,
        error_examples=tuple(dict.fromkeys(errors))[:3],
    )


def _asker(
    client: Client, offset: int, go: threading.Event, stop: threading.Event, calls: list[Call]
) -> None:
    go.wait()
    turn = offset
    while not stop.is_set():
        question = QUESTIONS[turn % len(QUESTIONS)]
        turn += 1
        started = time.perf_counter()
        try:
            _ask(client, question)
            error = None
        except Exception as exc:  # every failure is a figure here, never a crash
            error = f"{type(exc).__name__}: {exc}"
        calls.append(Call(time.perf_counter() - started, error))


def _ask(client: Client, question: str) -> None:
    history, _, _ = client.predict(question, [], api_name="/ask")
    if not history or history[-1].get("role") != "assistant":
        raise ValueError(f"the chat's last message is not the assistant's: {history[-1:]!r}")


def _p50_p95(seconds: list[float]) -> tuple[float, float]:
    if len(seconds) < 2:  # quantiles needs two points
        value = seconds[0] if seconds else math.nan
        return value, value
    cuts = statistics.quantiles(seconds, n=20, method="inclusive")
    return cuts[9], cuts[18]


def report(result: LoadResult) -> str:
    base = result.levels[0] if result.levels else None
    versus = f"vs {base.askers} asker{'s' if base and base.askers > 1 else ''}" if base else ""
    lines = [
        f"load: concurrent askers on the page (loopback, sample community, "
        f"{result.seconds_per_level:g} s per level)",
        f"  page up in {result.startup_s:.0f} s (first start ingests the sample); server answers "
        f"{result.ask_concurrency} at once, queues up to {result.max_queue}",
        f"  askers  answered  errors  answers/s  p50 ms  p95 ms  {versus}",
    ]
    for level in result.levels:
        ratio = level.answers_per_s / base.answers_per_s if base and base.answers_per_s else 0.0
        lines.append(
            f"  {level.askers:>6} {level.answered:>9} {level.errors:>7} {level.answers_per_s:>10.2f}"
            f" {level.p50_ms:>7.0f} {level.p95_ms:>7.0f}  {ratio:>9.2f}"
        )
        lines += [f"    error at {level.askers}: {example}" for example in level.error_examples]
    if result.server_problems:
        lines.append(f"  server log: {len(result.server_problems)} error lines, first:")
        lines += [f"    {line}" for line in result.server_problems[:3]]
    return "\n".join(lines)
