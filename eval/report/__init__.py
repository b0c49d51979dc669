"""Evaluation reports: report.json, report.md and a self-contained report.html."""

from eval.report.writing import write_report

__all__ = [
    "write_report",
]
