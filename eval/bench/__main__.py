"""`python -m eval.bench [ingest] [latency] [load] [...]`: run benchmarks and print their figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from copqa.offline import enforce_offline

enforce_offline()

from eval.bench import ingest, latency, load  # noqa: E402
from eval.bench.machine import describe_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared/data"
CACHE = REPO / "eval/reports/bench-cache"
BENCHMARKS = ("ingest", "latency", "load")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    parser.add_argument("benchmarks", nargs="*", help="ingest, latency, load (default: all)")
    parser.add_argument(
        "--corpus", type=Path, default=SHARED_DATA / "r-contributors/docs", help="ingest: documents"
    )
    parser.add_argument(
        "--sizes", default="10000,50000", help="latency: store sizes in chunks, comma-separated"
    )
    parser.add_argument("--cache", type=Path, default=CACHE, help="latency: where stores are kept")
    parser.add_argument(
        "--askers", default="1,4,16", help="load: concurrent askers per level, comma-separated"
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="load: how long each level runs (default 60)"
    )
    args = parser.parse_args()
    chosen = args.benchmarks or list(BENCHMARKS)
    if unknown := set(chosen) - set(BENCHMARKS):
        parser.error(
            f"unknown benchmark {', '.join(sorted(unknown))}: choose from {', '.join(BENCHMARKS)}"
        )
    print(describe_machine(), flush=True)
    if "ingest" in chosen:
        print(ingest.report(args.corpus, ingest.run(args.corpus)), flush=True)
    if "latency" in chosen:
        sizes = tuple(int(size) for size in args.sizes.split(","))
        print(latency.report(latency.run(args.cache, SHARED_DATA, sizes)), flush=True)
    if "load" in chosen:
        askers = tuple(int(n) for n in args.askers.split(","))
        print(load.report(load.run(askers, args.seconds)), flush=True)


if __name__ == "__main__":
    main()
