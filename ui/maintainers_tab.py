"""The Maintainers tab: gaps, feedback, ingestion history, the latest evaluation, abstention."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr

from copqa.community import Account, EvaluationRecord, Gap, as_cases, knowledge_gaps
from copqa.tuning import saved_curve
from ui import render
from ui.services import PageServices, maintainer_only

NO_REPORT = (
    "No evaluation report yet. Run `copqa eval run CASES.jsonl` (or `make eval`); "
    "the latest report shows here."
)


def build_maintainers_tab(services: PageServices, account: gr.State) -> tuple[Any, Any, list]:
    """The tab's contents; returns (refresh function, its inputs, its outputs)."""
    refresh = gr.Button("Refresh", elem_id="maintainers-refresh")
    gr.Markdown(
        "### Knowledge gaps\nQuestions copqa could not answer, answered unsurely, or that "
        "askers rated 👎, grouped by topic."
    )
    gaps = gr.HTML(elem_id="gaps")
    export = gr.Button("Export as evaluation cases")
    exported = gr.File(label="Cases to complete (JSONL)", interactive=False)
    gr.Markdown("### Recent feedback")
    feedback = gr.HTML()
    gr.Markdown("### Ingestion history")
    runs = gr.HTML()
    gr.Markdown("### Latest evaluation")
    report = gr.Markdown(NO_REPORT, latex_delimiters=render.NO_MATHS)
    gr.Markdown("### When copqa declines")
    abstention = gr.HTML(elem_id="calibration")

    def overview(who: Account) -> tuple[str, str, str, str, str]:
        maintainer_only(who)
        activity = services.activity
        return (
            render.gaps_html(current_gaps()),
            render.feedback_html(activity.feedback(limit=30)),
            render.runs_html(activity.runs(limit=20)),
            latest_report_markdown(activity.evaluations(limit=10)),
            render.calibration_html(
                services.assistant.extractive.calibration, saved_curve(services.settings.home)
            ),
        )

    def current_gaps() -> list[Gap]:
        questions = services.activity.gaps(services.settings.app.unsure_below)
        return knowledge_gaps(questions, services.assistant.embedder)

    def export_cases(who: Account) -> str:
        maintainer_only(who)
        found = current_gaps()
        # Gradio serves files from its temporary folder, not from COPQA_HOME.
        folder = Path(tempfile.mkdtemp(prefix="copqa-export-"))
        path = folder / f"gap-cases-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        lines = [json.dumps(case, ensure_ascii=False) for case in as_cases(found)]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return str(path)

    outputs = [gaps, feedback, runs, report, abstention]
    refresh.click(overview, [account], outputs, api_name="maintainers")
    export.click(export_cases, [account], [exported], api_name="export_gaps")
    return overview, [account], outputs


def latest_report_markdown(evaluations: list[EvaluationRecord]) -> str:
    """The newest report.md, then one line per earlier run (from the catalog's history)."""
    if not evaluations:
        return NO_REPORT
    latest = evaluations[0]
    report = Path(latest.folder) / "report.md"
    try:
        text = report.read_text(encoding="utf-8")
    except OSError:
        text = f"*The report of this run is gone from {latest.folder}.*"
    earlier = [
        f"- {time.strftime('%Y-%m-%d %H:%M', time.gmtime(e.finished_at))} · "
        f"{render.markdown_text(Path(e.subject).name)} · "
        + ", ".join(
            f"{name} {e.metrics[name]:.1%}"
            for name in ("coverage", "abstention", "accuracy")
            if isinstance(e.metrics.get(name), float)
        )
        for e in evaluations[1:]
    ]
    history = "\n\n**Earlier runs**\n" + "\n".join(earlier) if earlier else ""
    return text + history
