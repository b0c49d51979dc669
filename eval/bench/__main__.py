"""`python -m eval.bench [ingest] [latency] [load] [embedding] [...]`: run benchmarks and print their figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from copqa.offline import enforce_offline

enforce_offline()

from eval.bench import embedding, ingest, latency, load  # noqa: E402
from eval.bench.machine import describe_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared/data"
SHARED_EVAL = REPO.parent / "shared/eval"
CACHE = REPO / "eval/reports/bench-cache"
BENCHMARKS = ("ingest", "latency", "load", "embedding")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    parser.add_argument(
        "benchmarks", nargs="*", help="ingest, latency, load, embedding (default: all)"
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=SHARED_DATA / "r-contributors/docs",
        help="ingest, embedding: documents",
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
    parser.add_argument(
        "--texts", type=int, default=1000, help="embedding: chunks timed per precision"
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
    if "embedding" in chosen:
        figures = embedding.run(args.corpus, SHARED_EVAL, args.texts)
        print(embedding.report(figures), flush=True)


if __name__ == "__main__":
    main()
