"""`python -m eval.bench [ingest] [memory] [latency] [load] [embedding] [...]`: run benchmarks and print their figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from copqa.offline import enforce_offline

enforce_offline()

from eval.bench import embedding, ingest, latency, load, memory, serving  # noqa: E402
from eval.bench.machine import describe_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared/data"
SHARED_EVAL = REPO.parent / "shared/eval"
CACHE = REPO / "eval/reports/bench-cache"
BENCHMARKS = ("ingest", "memory", "latency", "serving", "load", "embedding")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    parser.add_argument("benchmarks", nargs="*", help=", ".join(BENCHMARKS) + " (default: all)")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=SHARED_DATA / "r-contributors/docs",
        help="ingest, embedding: documents",
    )
    parser.add_argument(
        "--export",
        type=Path,
        default=SHARED_DATA / "r-contributors/slack",
        help="memory: a Slack export folder, ingested as one copy and as three",
    )
    parser.add_argument(
        "--export-mb",
        type=float,
        default=8.0,
        help="memory: channels of the export taken, up to this many MB (default 8)",
    )
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="latency, serving: store sizes in chunks, comma-separated",
    )
    parser.add_argument(
        "--cache", type=Path, default=CACHE, help="latency, serving: where stores are kept"
    )
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
    needed = {
        "ingest": [args.corpus],
        "memory": [args.export],
        "latency": [SHARED_DATA],
        "serving": [SHARED_DATA],
        "embedding": [args.corpus, SHARED_EVAL],
    }
    if missing := sorted({str(p) for b in chosen for p in needed.get(b, []) if not p.exists()}):
        parser.error(
            f"real data missing: {', '.join(missing)}; put the shared folder (data/ and eval/) "
            f"at {REPO.parent / 'shared'}, beside this checkout, or name other paths"
        )
    print(describe_machine(), flush=True)
    if "ingest" in chosen:
        print(ingest.report(args.corpus, ingest.run(args.corpus)), flush=True)
    if "memory" in chosen:
        figures = memory.run(args.export, args.export_mb)
        print(memory.report(args.export, args.export_mb, figures), flush=True)
    sizes = tuple(int(size) for size in args.sizes.split(","))
    if "latency" in chosen:
        print(latency.report(latency.run(args.cache, SHARED_DATA, sizes)), flush=True)
    if "serving" in chosen:
        stores = latency.stores(args.cache, SHARED_DATA, sizes)
        print(serving.report(serving.run(stores)), flush=True)
    if "load" in chosen:
        askers = tuple(int(n) for n in args.askers.split(","))
        print(load.report(load.run(askers, args.seconds)), flush=True)
    if "embedding" in chosen:
        figures = embedding.run(args.corpus, SHARED_EVAL, args.texts)
        print(embedding.report(figures), flush=True)


if __name__ == "__main__":
    main()
