"""The runner on a real store: groundedness of an LLM's answer, and the LLM judge, apart."""

from __future__ import annotations

from copqa.answering.answerers import CitationChecker, ExtractiveAnswerer
from copqa.answering.llm import LLMAnswerer
from copqa.assistant import Assistant, build_retriever
from eval.cases import Case, Evidence
from eval.judge import LLMJudge
from eval.runner import CaseRunner
from tests.support.paths import REPO
from tests.support.standin_llm import StandInLLM

KILN = Case(
    id="kiln",
    question="Can I cut PVC on the laser cutter?",
    answerable=True,
    answer="No: PVC releases chlorine gas when it is cut.",
    evidence=(Evidence("Cutting PVC releases chlorine gas, which forms hydrochloric acid."),),
    type="fact",
)


def _reply(prompt: str) -> str:
    """An LLM that answers from source 1, then adds a claim no source makes."""
    return (
        "Cutting PVC releases chlorine gas, which forms hydrochloric acid [1]. "
        "The guild also sells ice cream on Sundays [1]."
    )


def test_an_llm_answer_is_scored_for_groundedness_and_judged_apart(
    settings, store, embedder, pipeline
):
    pipeline.ingest([REPO / "sample/docs"])
    llm = StandInLLM(reply=_reply)
    answerer = LLMAnswerer(llm, CitationChecker(embedder), ExtractiveAnswerer(embedder))
    retriever = build_retriever(settings, store, embedder)
    assistant = Assistant(settings, embedder, store, retriever, answerer)
    judge = LLMJudge(
        StandInLLM(
            reply=lambda p: "4.0\nclose to the reference" if "reference" in p.lower() else "YES"
        )
    )
    result = CaseRunner(assistant, 5, judge).run([KILN], REPO / "cases.jsonl")

    [case] = result["cases_detail"]
    assert case["answered"] and case["evidence_cited"] and case["correct"]
    # The checker dropped the ice cream before anyone saw it: what is left is grounded.
    assert "ice cream" not in case["answer"] and case["grounded"] == 1.0
    assert result["metrics"]["groundedness"] == 1.0
    assert 0 < case["token_f1"] < 1 and case["answer_similarity"] > 0.5
    assert result["llm_judged"] == {"judged": 1, "faithfulness": 1.0, "correctness": 4.0}
    assert "contexts" not in case  # passage texts stay out of report.json


def test_groundedness_counts_sentences_their_citation_does_not_support(
    settings, store, embedder, pipeline
):
    from copqa.models import Answer, Citation

    pipeline.ingest([REPO / "sample/docs"])
    assistant = Assistant.on_store(settings, embedder, store)
    runner = CaseRunner(assistant, 5)
    passage = assistant.ask(KILN.question).citations[0]
    answer = Answer(
        KILN.question,
        f"{passage.quotes[0].text[:-1]} [1]. The guild sells ice cream on Sundays [1].",
        True, 0.9, citations=(Citation(1, passage.chunk, passage.score),),
    )  # fmt: skip
    assert runner.groundedness(answer) == 0.5
