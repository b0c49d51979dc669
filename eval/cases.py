"""Evaluation cases: the JSONL format of ../shared/eval/README.md, read and checked.

One JSON object a line: `id`, `question`, `answerable`, `answer`, `evidence` (quotes with
locators), and optionally `experts`, `type` and `exclude_documents` (document ids kept
out of retrieval for the case, as for a case built from a thread of the store itself).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from copqa.errors import ConfigError


@dataclass(frozen=True)
class Evidence:
    quote: str
    locator: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    answerable: bool
    answer: str = ""
    evidence: tuple[Evidence, ...] = ()
    experts: tuple[str, ...] = ()
    type: str = ""
    exclude_documents: tuple[str, ...] = ()

    @property
    def quotes(self) -> list[str]:
        return [e.quote for e in self.evidence if e.quote.strip()]


def load_cases(path: Path) -> list[Case]:
    """Every case of a cases file.

    Raises:
        ConfigError: The file cannot be read, or a line is not a complete case (the
            message names the line and what is missing).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the cases file {path}: {exc}") from exc
    cases = [_case(row, n, path) for n, row in enumerate(lines, start=1) if row.strip()]
    if not cases:
        raise ConfigError(f"{path} holds no cases")
    return cases


def _case(row: str, number: int, path: Path) -> Case:
    where = f"{path.name}, line {number}"
    try:
        data = json.loads(row)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a case is a JSON object")
    missing = [key for key in ("id", "question") if not str(data.get(key) or "").strip()]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    if not isinstance(data.get("answerable"), bool):
        raise ConfigError(
            f"{where}: case {data['id']} has no answerable true/false yet; complete it "
            "(exported gaps leave it empty for a maintainer to decide)"
        )
    evidence = tuple(
        Evidence(str(e.get("quote") or ""), str(e.get("locator") or ""))
        for e in data.get("evidence") or []
        if isinstance(e, dict)
    )
    return Case(
        id=str(data["id"]),
        question=str(data["question"]),
        answerable=data["answerable"],
        answer=str(data.get("answer") or ""),
        evidence=evidence,
        experts=tuple(str(e) for e in data.get("experts") or []),
        type=str(data.get("type") or ""),
        exclude_documents=tuple(str(d) for d in data.get("exclude_documents") or []),
    )
