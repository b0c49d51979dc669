"""Answer quality on a cases file: evidence retrieved and cited, abstention, latency.

`python -m eval.answers CASES.jsonl [--corpus CORPUS.jsonl] [-k 5]` runs every case
(format in ../shared/eval/README.md) against the store in COPQA_HOME, or against a
throw-away store of CORPUS. Abstention is reported as PaperQA2 reports LitQA2: an
answered case is correct when its citations hold gold evidence; a declined case is
correct when the case is unanswerable.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from copqa.assistant import Assistant
from copqa.models import Answer
from copqa.offline import enforce_offline
from eval.evidence import holds


@dataclass(frozen=True)
class CaseResult:
    answerable: bool
    answered: bool
    evidence_rank: int | None  # 1-based rank of the first retrieved passage holding evidence
    evidence_cited: bool
    invalid_citations: int
    seconds: float


def run_case(assistant: Assistant, case: dict, k: int) -> CaseResult:
    started = time.perf_counter()
    answer = assistant.ask(case["question"], k)
    seconds = time.perf_counter() - started
    quotes = [e["quote"] for e in case.get("evidence", []) if e.get("quote")]
    rank = next(
        (
            i
            for i, p in enumerate(answer.retrieved, 1)
            if any(holds(p.chunk.text, q) for q in quotes)
        ),
        None,
    )
    cited = any(holds(c.chunk.text, q) for c in answer.citations for q in quotes)
    return CaseResult(
        answerable=bool(case.get("answerable")),
        answered=answer.answered,
        evidence_rank=rank,
        evidence_cited=cited,
        invalid_citations=invalid_citation_numbers(answer),
        seconds=seconds,
    )


def invalid_citation_numbers(answer: Answer) -> int:
    numbers = {c.n for c in answer.citations}
    return sum(1 for n in re.findall(r"\[(\d+)\]", answer.answer) if int(n) not in numbers)


def summarise(results: list[CaseResult], k: int) -> dict[str, float]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in results if r.answered]
    correct_answers = [r for r in answered if r.answerable and r.evidence_cited]
    correct_declines = [r for r in unanswerable if not r.answered]
    latencies = sorted(r.seconds for r in results)

    def share(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    return {
        "cases": len(results),
        f"evidence_recall@{k}": share(
            sum(r.evidence_rank is not None for r in answerable), len(answerable)
        ),
        f"evidence_mrr@{k}": share(
            sum(1 / r.evidence_rank for r in answerable if r.evidence_rank), len(answerable)
        ),
        "cited_evidence_when_answered": share(
            sum(r.evidence_cited for r in answerable if r.answered),
            sum(r.answered for r in answerable),
        ),
        "coverage": share(len(correct_answers), len(answerable)),
        "answered_answerable": share(sum(r.answered for r in answerable), len(answerable)),
        "correct_abstention": share(len(correct_declines), len(unanswerable)),
        "precision": share(len(correct_answers), len(answered)),
        "accuracy": share(len(correct_answers) + len(correct_declines), len(results)),
        "invalid_citation_numbers": float(sum(r.invalid_citations for r in results)),
        "latency_p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "latency_p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
    }


def main() -> None:
    enforce_offline()
    from copqa.settings import Settings
    from eval.scratch import scratch_assistant

    parser = argparse.ArgumentParser(prog="python -m eval.answers", description=__doc__)
    parser.add_argument("cases", type=Path)
    parser.add_argument(
        "--corpus", type=Path, help="a JSONL corpus to answer from (throw-away store)"
    )
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    if args.corpus:
        with scratch_assistant(args.corpus) as assistant:
            results = [run_case(assistant, case, args.k) for case in cases]
    else:
        assistant = Assistant.from_settings(Settings())
        results = [run_case(assistant, case, args.k) for case in cases]
        assistant.close()
    print(json.dumps(summarise(results, args.k), indent=2))


if __name__ == "__main__":
    main()
