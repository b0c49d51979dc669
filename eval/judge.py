"""LLM-judged faithfulness and correctness, with llama-index's evaluators, when an LLM is set.

Reported apart from the deterministic metrics: a judge is another model's opinion.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from copqa.errors import LLMUnavailableError
from eval.cases import Case

if TYPE_CHECKING:
    from llama_index.core.llms import LLM


@dataclass(frozen=True)
class Verdict:
    faithful: bool  # every claim of the answer follows from the retrieved passages
    correctness: float | None  # 1 to 5 against the gold answer; None without one


class LLMJudge:
    def __init__(self, llm: LLM) -> None:
        from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator

        self._faithfulness = FaithfulnessEvaluator(llm=llm)
        self._correctness = CorrectnessEvaluator(llm=llm)

    def judge(self, case: Case, answer: str, contexts: Sequence[str]) -> Verdict:
        try:
            faithful = self._faithfulness.evaluate(
                query=case.question, response=answer, contexts=list(contexts)
            )
            correctness = (
                self._correctness.evaluate(
                    query=case.question, response=answer, reference=case.answer
                ).score
                if case.answer
                else None
            )
        except Exception as exc:  # every LLM client raises its own transport errors
            raise LLMUnavailableError(f"the judging LLM did not answer: {exc}") from exc
        return Verdict(bool(faithful.passing), correctness)

    @staticmethod
    def summarise(verdicts: Sequence[Verdict]) -> dict[str, float | int | None]:
        scores = [v.correctness for v in verdicts if v.correctness is not None]
        return {
            "judged": len(verdicts),
            "faithfulness": statistics.fmean(v.faithful for v in verdicts) if verdicts else None,
            "correctness": statistics.fmean(scores) if scores else None,
        }
