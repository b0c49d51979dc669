"""Runs a cases file against an assistant and builds the report's result (schema 1).

Each case is asked as a newcomer would ask it (its `exclude_documents` kept out of
retrieval). Besides the configured answer, the extractive answerer's answer at threshold
0 (the "probe") says what copqa would have answered had it not abstained: that gives the
confidence histograms and the coverage-precision curve over the abstention threshold.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from copqa.access import PUBLIC, known
from copqa.answering import CitationChecker, ExtractiveAnswerer
from copqa.assistant import Assistant
from copqa.models import Answer, Chunk, ScoredChunk, SearchFilter, iso_day
from copqa.sentences import answer_sentences
from eval.cases import Case
from eval.evidence import holds
from eval.judge import LLMJudge
from eval.scores import Outcome, by_type, curve, evidence_rank, expert_hit, summarise, token_f1

SCHEMA = 1
_MARKER = re.compile(r"\s*\[\d+\]")


class CaseRunner:
    """Asks the cases and scores each answer; `run` returns the report's result dict."""

    def __init__(self, assistant: Assistant, k: int, judge: LLMJudge | None = None) -> None:
        self._assistant = assistant
        self._k = k
        self._judge = judge
        self._checker = CitationChecker(assistant.embedder)
        self._probe = assistant.extractive.with_threshold(0.0)

    def run(
        self,
        cases: Sequence[Case],
        cases_file: Path,
        on_case: Callable[[int, int], None] | None = None,
    ) -> dict:
        outcomes, details, judged = [], [], []
        for done, case in enumerate(cases):
            if on_case is not None:
                on_case(done, len(cases))
            outcome, detail = self._run_case(case)
            outcomes.append(outcome)
            details.append(detail)
            if self._judge is not None and detail["answered"] and case.answerable:
                judged.append(self._judge.judge(case, detail["answer"], detail["contexts"]))
            del detail["contexts"]
        settings = self._assistant.settings
        return {
            "schema": SCHEMA,
            "kind": "cases",
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cases_file": str(cases_file),
            "store": str(settings.home),
            "k": self._k,
            "threshold": self._assistant.extractive.calibration.threshold,
            "calibration": self._assistant.extractive.calibration.fitted_on,
            "answerer": "extractive"
            if settings.llm.provider == "none"
            else f"llm: {settings.llm.model or settings.llm.provider}",
            "metrics": summarise(outcomes, self._k),
            "llm_judged": LLMJudge.summarise(judged) if self._judge is not None else None,
            "by_type": by_type(outcomes, self._k),
            "curve": curve(outcomes),
            "cases_detail": details,
            "private_levels": sorted(
                {lv for d in details for lv in d.pop("levels") if lv != PUBLIC}
            ),
        }

    def _run_case(self, case: Case) -> tuple[Outcome, dict]:
        # The maintainers' tool: every level, as the cases may come from private threads.
        where = SearchFilter(levels=None, exclude_documents=case.exclude_documents)
        started = time.perf_counter()
        answer = self._assistant.ask(case.question, self._k, where=where)
        seconds = time.perf_counter() - started
        quotes = case.quotes
        holding = {c.n for c in answer.citations if _holds(c.chunk, quotes)}
        probe = answer if _is_final(answer, self._assistant) else self._probe_answer(answer)
        reply = _MARKER.sub("", answer.answer)
        scored = answer.answered and case.answerable and bool(case.answer)
        similarity = self._similarity(reply, case.answer) if scored else None
        suggested = [e.name for e in answer.experts]
        outcome = Outcome(
            answerable=case.answerable,
            answered=answer.answered,
            type=case.type,
            evidence_rank=evidence_rank([p.chunk.text for p in answer.retrieved], quotes),
            evidence_cited=bool(holding),
            citations=len(answer.citations),
            citations_holding_evidence=len(holding),
            invalid_citations=invalid_citation_numbers(answer),
            token_f1=token_f1(answer.answer, case.answer) if scored else None,
            similarity=similarity,
            grounded=self.groundedness(answer) if answer.answered else None,
            expert_hit=expert_hit(suggested, case.experts),
            probe_confidence=probe.confidence,
            probe_cited=any(_holds(c.chunk, quotes) for c in probe.citations),
            seconds=seconds,
        )
        detail = {
            "id": case.id,
            "type": case.type,
            "question": case.question,
            "answerable": case.answerable,
            "gold_answer": case.answer,
            "gold_evidence": [dataclasses.asdict(e) for e in case.evidence],
            "answer": answer.answer,
            "answered": answer.answered,
            "confidence": round(answer.confidence, 4),
            "probe_confidence": round(probe.confidence, 4),
            "evidence_rank": outcome.evidence_rank,
            "evidence_cited": outcome.evidence_cited,
            "correct": outcome.correct,
            "citations": [
                {**_where(c.chunk), "n": c.n, "holds_evidence": c.n in holding}
                for c in answer.citations
            ],
            "invalid_citations": outcome.invalid_citations,
            "token_f1": outcome.token_f1,
            "answer_similarity": similarity,
            "grounded": outcome.grounded,
            "experts": suggested,
            "gold_experts": list(case.experts),
            "expert_hit": outcome.expert_hit,
            "seconds": round(seconds, 4),
            "levels": sorted({known(p.chunk.access) for p in answer.retrieved}),
            "contexts": [p.chunk.text for p in answer.retrieved],  # for the judge; not reported
        }
        return outcome, detail

    def _probe_answer(self, answer: Answer) -> Answer:
        return self._probe.answer(answer.question, list(answer.retrieved))

    def _similarity(self, reply: str, gold: str) -> float:
        vectors = self._assistant.embedder.embed([reply, gold])
        return round(float(vectors[0] @ vectors[1]), 4)

    def groundedness(self, answer: Answer) -> float:
        """Share of the answer's sentences supported by a passage they cite."""
        cited = {c.n: ScoredChunk(c.chunk, c.score) for c in answer.citations}
        sentences = answer_sentences(answer.answer)
        supported = sum(
            any(n in cited and self._checker.support(text, cited[n]) for n in numbers)
            for text, numbers in sentences
        )
        return round(supported / len(sentences), 4) if sentences else 0.0


def invalid_citation_numbers(answer: Answer) -> int:
    """`[n]` markers in the text that match no citation (copqa's promise: always 0)."""
    numbers = {c.n for c in answer.citations}
    return sum(1 for n in re.findall(r"\[(\d+)\]", answer.answer) if int(n) not in numbers)


def _is_final(answer: Answer, assistant: Assistant) -> bool:
    """An extractive answer that was given is its own probe: same passages, same sentences."""
    return answer.answered and isinstance(assistant.answerer, ExtractiveAnswerer)


def _holds(chunk: Chunk, quotes: Sequence[str]) -> bool:
    return any(holds(chunk.text, quote) for quote in quotes)


def _where(chunk: Chunk) -> dict[str, str]:
    return {
        "title": chunk.title,
        "where": chunk.place,
        "author": chunk.author,
        "date": iso_day(chunk.created_at),
        "url": chunk.url,
    }
