"""Evaluation reports for maintainers: report.json, report.md and a self-contained report.html.

`write_report(result, folder)` takes the result dict of `copqa eval run` (kind "cases") or
`copqa eval beir` (kind "beir"), schema 1, and writes the three files. The Markdown is the
short summary the Maintainers tab shows; the HTML adds charts and every case, failures
first. The HTML loads nothing: its CSS is inline, its charts are PNG data URIs, and its
Content-Security-Policy forbids scripts and remote content should any markup slip through.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from eval.report.html import html_beir, html_cases
from eval.report.wording import (
    beir_metrics,
    counts,
    fmt,
    grouped_metrics,
    maintainers_only,
    outcome,
    short,
    when,
)

SCHEMA = 1
FAILURES_IN_MARKDOWN = 50


@dataclass(frozen=True)
class ReportFiles:
    """The three files `write_report` wrote."""

    json: Path
    markdown: Path
    html: Path


def write_report(result: dict, folder: Path) -> ReportFiles:
    """Writes report.json, report.md and report.html for an evaluation result.

    Args:
        result: the runner's result dict (schema 1, kind "cases" or "beir").
        folder: where the reports go; created if missing. Existing reports are replaced,
            each file at once, so a reader never sees half of one.

    Returns:
        The paths of the three files.

    Raises:
        ValueError: the dict is not a schema 1 result of a known kind.
    """
    _check(result)
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder / "report.json", folder / "report.md", folder / "report.html")
    _replace(files.json, json.dumps(result, indent=2, ensure_ascii=False, sort_keys=False))
    _replace(files.markdown, markdown_summary(result))
    _replace(files.html, html_cases(result) if result["kind"] == "cases" else html_beir(result))
    return files


def markdown_summary(result: dict) -> str:
    """The report.md text: headline metrics, per-type figures and failures (or, for BEIR, a table)."""
    _check(result)
    return _markdown_cases(result) if result["kind"] == "cases" else _markdown_beir(result)


def _check(result: Mapping) -> None:
    if result.get("schema") != SCHEMA or result.get("kind") not in ("cases", "beir"):
        raise ValueError(
            f"not an evaluation result this report knows (schema {result.get('schema')!r}, "
            f"kind {result.get('kind')!r}); expected schema {SCHEMA}, kind 'cases' or 'beir'"
        )


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


# Markdown.


def _md(text: object) -> str:
    """Text as Markdown shows it literally: one line, markup characters backslash-escaped."""
    return re.sub(r"([\\`*_{}\[\]<>|#&~!])", r"\\\1", " ".join(str(text).split()))


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _markdown_cases(result: Mapping) -> str:
    metrics, k = result.get("metrics", {}), result.get("k")
    lines = [
        f"# copqa evaluation: {_md(Path(str(result.get('cases_file', ''))).name)}, "
        f"{_md(str(result.get('created_at', ''))[:10])}",
        "",
        f"{counts(metrics)}; answerer "
        f"{_md(result.get('answerer'))}, k = {_md(k)}, abstention threshold "
        f"{_md(result.get('threshold'))}; run {_md(when(result.get('created_at', '')))}.",
        "",
    ]
    if private := maintainers_only(result):
        lines += [f"**{_md(private)}**", ""]
    rows = []
    for group, entries in grouped_metrics(metrics).items():
        rows.append([f"**{group}**", ""])
        rows += [[f"{_md(label)} (`{key}`)", fmt(key, metrics.get(key))] for key, label in entries]
    lines += _md_table(["Metric", "Value"], rows)
    if judged := result.get("llm_judged"):
        lines += ["", "## LLM-judged (an LLM's opinion, not a deterministic measure)", ""]
        lines += _md_table(
            ["Metric", "Value"], [[_md(name), fmt(name, v)] for name, v in judged.items()]
        )
    if by_type := result.get("by_type"):
        columns = list(dict.fromkeys(c for figures in by_type.values() for c in figures))
        lines += ["", "## By type", ""]
        lines += _md_table(
            ["Type", *(_md(c) for c in columns)],
            [[_md(t), *(fmt(c, f.get(c)) for c in columns)] for t, f in by_type.items()],
        )
    failures = [c for c in result.get("cases_detail", []) if c.get("correct") is False]
    lines += ["", f"## Failures ({len(failures)})", ""]
    lines += [
        f"- {_md(c.get('id'))}: {_md(short(c.get('question')))} — {_md(outcome(c, k))}"
        for c in failures[:FAILURES_IN_MARKDOWN]
    ] or ["None."]
    if len(failures) > FAILURES_IN_MARKDOWN:
        lines.append(f"- … and {len(failures) - FAILURES_IN_MARKDOWN} more in report.html")
    return "\n".join(lines) + "\n"


def _markdown_beir(result: Mapping) -> str:
    retrievers = result.get("retrievers", {})
    columns = beir_metrics(retrievers)
    lines = [
        f"# copqa retrieval evaluation: {_md(result.get('dataset'))}, "
        f"{_md(str(result.get('created_at', ''))[:10])}",
        "",
        f"{fmt('queries', result.get('queries'))} queries over "
        f"{fmt('corpus', result.get('corpus'))} documents; run {_md(when(result.get('created_at', '')))}.",
        "",
    ]
    rows = [[_md(n), *(fmt(c, f.get(c)) for c in columns)] for n, f in retrievers.items()]
    return "\n".join(lines + _md_table(["Retriever", *map(_md, columns)], rows)) + "\n"
