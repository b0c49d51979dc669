"""`python -m eval.bench [ingest] [--corpus PATH]`: run the benchmarks and print their figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from copqa.offline import enforce_offline

enforce_offline()

from eval.bench import ingest  # noqa: E402
from eval.bench.machine import describe_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO.parent / "shared/data/r-contributors/docs"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__)
    parser.add_argument("benchmarks", nargs="*", default=["ingest"], choices=["ingest"])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="documents to ingest")
    args = parser.parse_args()
    print(describe_machine())
    if "ingest" in args.benchmarks:
        print(ingest.report(args.corpus, ingest.run(args.corpus)))


if __name__ == "__main__":
    main()
