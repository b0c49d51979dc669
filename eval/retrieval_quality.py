"""Retrieval quality of dense, BM25 and hybrid search on a throw-away index.

Two layouts are read: BEIR (`corpus.jsonl`, `queries.jsonl`, `qrels.tsv`) and a cases file
whose evidence locators name a corpus passage id in parentheses, as in ClapNQ
(`"Forecasting (p317cf8844098)"`): its answerable questions and their gold passages.
"""

from __future__ import annotations

import csv
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from copqa.embedding import Embedder
from copqa.settings import Settings
from eval.metrics import mean, mrr_at, ndcg_at, recall_at
from eval.scratch import scratch_assistant
from ingest.loaders import jsonl_document_id

# Each retriever compared, as changes to the retrieval settings.
RETRIEVERS: dict[str, dict[str, object]] = {
    "dense": {"mode": "dense"},
    "keyword (BM25)": {"mode": "keyword"},
    "hybrid (default)": {},
    "hybrid, rrf": {"fusion": "rrf", "keyword_weight": 1.0},
}
_LOCATOR_ID = re.compile(r"\(([^()]+)\)\s*$")


@dataclass(frozen=True)
class RetrievalSet:
    name: str
    corpus: Path
    queries: list[tuple[str, str]]  # (query id, text)
    qrels: dict[str, dict[str, int]]  # query id -> corpus id -> grade


def load_beir(folder: Path) -> RetrievalSet:
    queries = [
        (q["_id"], q["text"])
        for q in map(json.loads, (folder / "queries.jsonl").read_text().splitlines())
    ]
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels.tsv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    judged = [(qid, text) for qid, text in queries if qid in qrels]
    return RetrievalSet(folder.name, folder / "corpus.jsonl", judged, qrels)


def load_case_passages(cases: Path, corpus: Path) -> RetrievalSet:
    """Answerable cases whose evidence locators name corpus ids: their gold passages."""
    queries, qrels = [], {}
    for line in cases.read_text().splitlines():
        case = json.loads(line)
        gold = {
            match.group(1): 1
            for evidence in case.get("evidence", [])
            if (match := _LOCATOR_ID.search(evidence.get("locator", "")))
        }
        if case.get("answerable") and gold:
            queries.append((case["id"], case["question"]))
            qrels[case["id"]] = gold
    return RetrievalSet(corpus.parent.name, corpus, queries, qrels)


def evaluate(
    dataset: RetrievalSet,
    embedder: Embedder,
    settings: Settings | None = None,
    depth: int = 100,
    retrievers: tuple[str, ...] = tuple(RETRIEVERS),
) -> dict[str, dict[str, float]]:
    """nDCG@10, Recall@10, Recall@100 and MRR@10 of each retrieval mode, and ms per query."""
    from copqa.assistant import build_retriever

    with scratch_assistant(dataset.corpus, embedder, settings) as assistant:
        base, store = assistant.settings, assistant.store
        corpus_of = _corpus_ids(dataset)
        results = {}
        for mode in retrievers:
            options = base.retrieval.model_copy(update=RETRIEVERS[mode])
            retriever = build_retriever(
                base.model_copy(update={"retrieval": options}), store, embedder
            )
            scores: dict[str, list[float]] = {
                "ndcg@10": [],
                "recall@10": [],
                "recall@100": [],
                "mrr@10": [],
            }
            started = time.perf_counter()
            for qid, text in dataset.queries:
                hits = retriever.retrieve(text, depth)
                ranked = list(dict.fromkeys(corpus_of.get(h.chunk.document_id, "") for h in hits))
                relevant = dataset.qrels[qid]
                scores["ndcg@10"].append(ndcg_at(ranked, relevant, 10))
                scores["recall@10"].append(recall_at(ranked, relevant, 10))
                scores["recall@100"].append(recall_at(ranked, relevant, 100))
                scores["mrr@10"].append(mrr_at(ranked, relevant, 10))
            elapsed = time.perf_counter() - started
            results[mode] = {name: mean(values) for name, values in scores.items()}
            results[mode]["ms_per_query"] = 1000 * elapsed / max(len(dataset.queries), 1)
    return results


def _corpus_ids(dataset: RetrievalSet) -> dict[str, str]:
    """Document id (as the JSONL loader makes it) -> corpus id."""
    ids = {}
    for line in dataset.corpus.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            key = str(row.get("_id", row.get("id")))
            ids[jsonl_document_id(dataset.name, key)] = key
    return ids


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A Markdown table: one row per (set, mode)."""
    lines = [
        "| set | retriever | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | ms/query |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, modes in results.items():
        for mode, m in modes.items():
            lines.append(
                f"| {name} | {mode} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | "
                f"{m['recall@100']:.4f} | {m['mrr@10']:.4f} | {m['ms_per_query']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    import argparse

    from copqa.offline import enforce_offline

    enforce_offline()
    shared = Path(__file__).resolve().parents[1].parent / "shared/eval"
    parser = argparse.ArgumentParser(
        prog="python -m eval.retrieval_quality",
        description="dense, BM25 and hybrid retrieval side by side (default: ../shared/eval sets)",
    )
    parser.add_argument("beir", nargs="*", type=Path, help="BEIR folders")
    parser.add_argument("--cases", type=Path, help="a cases file whose locators name corpus ids")
    parser.add_argument("--corpus", type=Path, help="the corpus of --cases")
    args = parser.parse_args()
    sets = [load_beir(folder) for folder in args.beir]
    if args.cases and args.corpus:
        sets.append(load_case_passages(args.cases, args.corpus))
    if not sets and not shared.is_dir():
        parser.error(f"real data missing: put the shared folder's eval/ at {shared}, or name sets")
    if not sets:
        sets = [
            load_beir(shared / "stackfaq"),
            load_case_passages(shared / "clapnq/cases.jsonl", shared / "clapnq/corpus.jsonl"),
        ]
    settings = Settings()
    embedder = Embedder.from_settings(settings)
    print(table({s.name: evaluate(s, embedder, settings) for s in sets}))


if __name__ == "__main__":
    main()
