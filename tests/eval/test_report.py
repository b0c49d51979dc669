"""Evaluation reports written from hand-made results, and the HTML opened in real Chromium."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from playwright.sync_api import Dialog

from eval.report.writing import ReportFiles, markdown_summary, write_report
from tests.support.chromium import SCREENSHOTS, headless_chromium

SCRIPT_QUESTION = "Is <script>alert(1)</script> allowed in a post?"
CASE_URL = "https://chat.example.org/laser-cutter/p/42"
UNANSWERABLE = {
    "answerable": False,
    "gold_answer": "",
    "gold_evidence": [],
    "evidence_rank": None,
    "token_f1": None,
    "answer_similarity": None,
}


def citation(n: int, holds: bool, url: str | None = None) -> dict:
    return {
        "n": n,
        "title": f"Laser cutter thread {n}",
        "where": "#laser-cutter",
        "author": "Tobias Lindqvist",
        "date": "2025-02-18",
        "url": url,
        "holds_evidence": holds,
    }


def case(id_: str, type_: str, question: str, what: str, correct: bool) -> dict:
    """An answerable case's detail, `what` copqa did ("answered" or "declined")."""
    answered = what == "answered"
    return {
        "id": id_,
        "type": type_,
        "question": question,
        "answerable": True,
        "gold_answer": "No: PVC gives off chlorine gas.",
        "gold_evidence": [
            {"quote": "Never cut PVC, it releases chlorine.", "locator": "#laser-cutter"}
        ],
        "answer": "PVC must never go in the laser cutter [1]." if answered else "",
        "answered": answered,
        "confidence": 0.71 if answered else 0.2,
        "probe_confidence": 0.71 if answered else 0.3,
        "evidence_rank": 1,
        "evidence_cited": answered and correct,
        "correct": correct,
        "citations": [citation(1, correct)] if answered else [],
        "token_f1": 0.4 if answered else None,
        "answer_similarity": 0.7 if answered else None,
        "grounded": 1.0 if answered else None,
        "experts": ["Tobias"],
        "gold_experts": [],
        "expert_hit": None,
        "seconds": 0.31,
    }


@pytest.fixture
def cases_result() -> dict:
    return {
        "schema": 1,
        "kind": "cases",
        "created_at": "2026-11-29T13:50:00Z",
        "cases_file": "/data/eval/makerspace-cases.jsonl",
        "store": "/data/home",
        "k": 5,
        "threshold": 0.45,
        "answerer": "extractive",
        "metrics": {
            "cases": 5,
            "answerable": 3,
            "unanswerable": 2,
            "recall@5": 1.0,
            "mrr@5": 0.986,
            "cited_evidence": 0.968,
            "citation_precision": 0.81,
            "invalid_citations": 0,
            "token_f1": 0.31,
            "answer_similarity": 0.62,
            "groundedness": 1.0,
            "coverage": 0.813,
            "abstention": 0.771,
            "precision": 0.758,
            "accuracy": 0.792,
            "experts_hit@3": None,
            "latency_p50_ms": 310.0,
            "latency_p95_ms": 720.0,
        },
        "llm_judged": None,
        "by_type": {
            "fact": {"cases": 3, "recall@5": 0.9, "coverage": 0.8, "accuracy": 0.85},
            "howto": {"cases": 2, "recall@5": 1.0, "coverage": 0.5, "accuracy": 0.5},
        },
        "curve": [
            {
                "threshold": i / 20,
                "coverage": 0.9 - 0.8 * i / 20,
                "precision": 0.6 + 0.35 * i / 20 if i < 20 else None,
                "accuracy": 0.55 + 0.2 * i / 20,
            }
            for i in range(21)
        ],
        "cases_detail": [
            # Answered with gold evidence; a second citation's URL is no web address.
            case("rc-001", "fact", "Can I cut PVC on the laser cutter?", "answered", correct=True)
            | {"citations": [citation(1, True, CASE_URL), citation(2, False, "javascript:x()")]},
            # Answered, citing no gold evidence; the question holds markup.
            case("rc-002", "fact", SCRIPT_QUESTION, "answered", correct=False),
            # Declined an answerable case whose evidence was not retrieved.
            case("rc-003", "howto", "How do I book the 3D printer?", "declined", correct=False)
            | {"evidence_rank": None},
            # Declined an unanswerable case, rightly.
            case("rc-004", "howto", "What is the guest Wi-Fi password?", "declined", correct=True)
            | UNANSWERABLE,
            # Answered an unanswerable case.
            case("rc-005", "fact", "Who owns the red soldering iron?", "answered", correct=False)
            | UNANSWERABLE,
        ],
    }


@pytest.fixture
def beir_result() -> dict:
    return {
        "schema": 1,
        "kind": "beir",
        "created_at": "2026-11-29T14:05:00Z",
        "dataset": "stackfaq",
        "folder": "/data/eval/stackfaq",
        "queries": 749,
        "corpus": 125,
        "retrievers": {
            "dense": {
                "ndcg@10": 0.97,
                "recall@10": 1.0,
                "recall@100": 1.0,
                "mrr@10": 0.97,
                "seconds": 12.0,
            },
            "keyword (BM25)": {
                "ndcg@10": 0.81,
                "recall@10": 0.9,
                "recall@100": 0.98,
                "mrr@10": 0.78,
                "seconds": 1.5,
            },
            "hybrid (default)": {
                "ndcg@10": 0.975,
                "recall@10": 1.0,
                "recall@100": 1.0,
                "mrr@10": 0.972,
                "seconds": 13.1,
            },
        },
    }


def test_the_three_files_are_written_into_a_new_folder(cases_result: dict, tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "run-1"
    files = write_report(cases_result, folder)
    assert files == ReportFiles(
        folder / "report.json", folder / "report.md", folder / "report.html"
    )
    assert all(path.is_file() for path in (files.json, files.markdown, files.html))
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.json", "report.md"]


def test_report_json_round_trips(cases_result: dict, tmp_path: Path) -> None:
    expected = copy.deepcopy(cases_result)
    files = write_report(cases_result, tmp_path)
    text = files.json.read_text(encoding="utf-8")
    assert json.loads(text) == expected
    assert text == json.dumps(expected, indent=2, ensure_ascii=False)


def test_markdown_holds_the_headline_figures_formatted(cases_result: dict, tmp_path: Path) -> None:
    files = write_report(cases_result, tmp_path)
    md = files.markdown.read_text(encoding="utf-8")
    assert md == markdown_summary(cases_result)
    assert md.startswith("# copqa evaluation: makerspace-cases.jsonl, 2026-11-29\n")
    for row in (
        "| Coverage (answerable cases answered correctly) (`coverage`) | 81.3% |",
        "| Correct abstention (unanswerable cases declined) (`abstention`) | 77.1% |",
        "| Precision (correct / answered) (`precision`) | 75.8% |",
        "| Accuracy (correct / all cases) (`accuracy`) | 79.2% |",
        "| Evidence retrieved in the top 5 (`recall@5`) | 100.0% |",
        "| Invalid citation markers (must be 0) (`invalid_citations`) | 0 |",
        "| A gold expert among the top 3 suggested (`experts_hit@3`) | n/a |",
        "| Median (`latency_p50_ms`) | 310 ms |",
        "| Token F1 vs the gold answer (`token_f1`) | 0.31 |",
        "| fact | 3 | 90.0% | 80.0% | 85.0% |",
    ):
        assert row in md
    assert md.index("**Retrieval**") < md.index("**Citations**") < md.index("**Abstention**")
    assert "5 cases (3 answerable, 2 unanswerable)" in md
    assert "LLM-judged" not in md  # llm_judged is None


def test_markdown_lists_each_failure_with_why(cases_result: dict) -> None:
    md = markdown_summary(cases_result)
    failures = md[md.index("## Failures (3)") :]
    assert (
        "- rc-002: Is \\<script\\>alert(1)\\</script\\> allowed in a post? — answered without gold evidence"
        in failures
    )
    assert "- rc-003: How do I book the 3D printer? — declined an answerable case" in failures
    assert "- rc-005: Who owns the red soldering iron? — answered an unanswerable case" in failures
    assert "rc-001" not in failures and "rc-004" not in failures
    # Rendered as CommonMark (as the Maintainers tab does), the tags are text, not markup.
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "Is &lt;script&gt;alert(1)&lt;/script&gt; allowed in a post?" in rendered
    assert "<script" not in rendered


def test_markdown_sets_the_llm_judged_figures_apart(cases_result: dict) -> None:
    cases_result["llm_judged"] = {"faithfulness": 0.8, "correctness": 3.9, "judged": 40}
    md = markdown_summary(cases_result)
    judged = md[md.index("## LLM-judged") : md.index("## By type")]
    assert "| faithfulness | 80.0% |" in judged
    assert "| correctness | 3.90 |" in judged
    assert "| judged | 40 |" in judged
    assert md.index("| Median (`latency_p50_ms`)") < md.index("## LLM-judged")


def test_html_escapes_case_text_and_loads_nothing(cases_result: dict, tmp_path: Path) -> None:
    page = write_report(cases_result, tmp_path).html.read_text(encoding="utf-8")
    assert "Is &lt;script&gt;alert(1)&lt;/script&gt; allowed in a post?" in page
    assert "<script" not in page.lower()
    assert re.findall(r'(?:src|href)="(?!data:image/png;base64,)([^"]*)"', page) == [CASE_URL]
    assert "javascript:" not in page  # that citation's URL is not linked, but
    assert "Laser cutter thread 2" in page  # the citation is still shown
    assert 'src="//' not in page and "url(" not in page and "@import" not in page
    assert (
        len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="[^"]{20,}"', page))
        == 3
    )


def test_html_lists_failures_before_passes(cases_result: dict, tmp_path: Path) -> None:
    page = write_report(cases_result, tmp_path).html.read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="(fail|pass)" data-case="([^"]+)"', page)
    assert rows == [
        ("fail", "rc-002"),
        ("fail", "rc-003"),
        ("fail", "rc-005"),
        ("pass", "rc-001"),
        ("pass", "rc-004"),
    ]


def test_beir_reports_a_table_of_retrievers(beir_result: dict, tmp_path: Path) -> None:
    files = write_report(beir_result, tmp_path / "beir")
    md = files.markdown.read_text(encoding="utf-8")
    assert "| Retriever | ndcg@10 | recall@10 | recall@100 | mrr@10 | seconds |" in md
    assert "| keyword (BM25) | 81.0% | 90.0% | 98.0% | 78.0% | 1.5 s |" in md
    assert "749 queries over 125 documents" in md
    page = files.html.read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == 1
    assert "<td>hybrid (default)</td>" in page


def test_an_unknown_result_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind 'cases' or 'beir'"):
        write_report({"schema": 1, "kind": "latency"}, tmp_path)
    assert not (tmp_path / "report.json").exists()


def test_the_html_renders_its_charts_in_chromium(
    cases_result: dict, beir_result: dict, tmp_path: Path
) -> None:
    cases_result["llm_judged"] = {"faithfulness": 0.8, "correctness": 3.9, "judged": 40}
    cases_result["cases_detail"][0] |= {"gold_experts": ["Tobias"], "expert_hit": True}
    cases_html = write_report(cases_result, tmp_path / "cases").html
    beir_html = write_report(beir_result, tmp_path / "beir").html
    dialogs: list[str] = []
    requests: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("dialog", record)
        page.on("request", lambda request: requests.append(request.url))
        widths: dict[str, list[int]] = {}
        for name, report in (("eval-report", cases_html), ("eval-report-beir", beir_html)):
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            widths[name] = page.evaluate(
                "() => [...document.images].map(i => i.complete ? i.naturalWidth : 0)"
            )
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
            if name == "eval-report":
                shown = page.locator('tr[data-case="rc-002"] td').nth(1).inner_text()

    assert len(widths["eval-report"]) >= 3
    assert all(width > 100 for width in widths["eval-report"]), widths
    assert len(widths["eval-report-beir"]) == 1 and widths["eval-report-beir"][0] > 100
    assert shown == SCRIPT_QUESTION  # the tags show as text
    assert dialogs == []
    assert all(url.startswith(("file://", "data:")) for url in requests), requests


def test_a_sparse_result_still_gets_its_three_charts(cases_result: dict, tmp_path: Path) -> None:
    # No types, no curve, no confidences, a type whose coverage does not apply.
    cases_result |= {"by_type": {}, "curve": []}
    for detail in cases_result["cases_detail"]:
        detail["probe_confidence"] = None
    cases_result["metrics"]["coverage"] = None
    page = write_report(cases_result, tmp_path).html.read_text(encoding="utf-8")
    assert page.count('<img src="data:image/png;base64,') == 3
    assert "coverage n/a" in page  # the single "all" group's alt text
    assert "<h2>By type</h2>" not in page
    assert "| Coverage (answerable cases answered correctly) (`coverage`) | n/a |" in (
        markdown_summary(cases_result)
    )
