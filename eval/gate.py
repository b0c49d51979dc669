"""A regression gate over a report: thresholds (`--fail-under`, `--fail-over`) and deltas.

Metric names are the keys of the report's `metrics` (`coverage`, `abstention`,
`latency_p95_ms`, ...). `recall@N` and `mrr@N` may name any N: they are computed from
the cases' evidence ranks, so a gate written for `recall@5` still holds when a run used
another k (a run with k=3 cannot find evidence at rank 4 or 5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copqa.errors import ConfigError

_AT = re.compile(r"^(recall|mrr)@(\d+)$")


@dataclass(frozen=True)
class Breach:
    metric: str
    value: float | None
    limit: float
    under: bool  # True: fell below a --fail-under limit; False: rose above a --fail-over one

    def __str__(self) -> str:
        shown = "n/a" if self.value is None else f"{self.value:.4g}"
        word = "below" if self.under else "above"
        return f"{self.metric} = {shown}, {word} the limit {self.limit:g}"


def parse_limits(text: str) -> dict[str, float]:
    """`recall@5=0.8,abstention=0.6` as {"recall@5": 0.8, "abstention": 0.6}.

    Raises:
        ConfigError: A part is not NAME=NUMBER.
    """
    limits = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, number = part.partition("=")
        try:
            limits[name.strip()] = float(number)
        except ValueError:
            raise ConfigError(f"{part!r} is not METRIC=NUMBER, e.g. recall@5=0.8") from None
    return limits


def metric(result: dict, name: str) -> float | None:
    """A metric of a cases report by name (None when it does not apply to the run).

    Raises:
        ConfigError: No metric has this name.
    """
    at = _AT.match(name)
    if at:
        return _at_rank(result, at.group(1), int(at.group(2)))
    metrics = result["metrics"]
    if name not in metrics:
        known = ", ".join(sorted(k for k in metrics if "@" not in k or k.startswith("experts")))
        raise ConfigError(f"no metric {name!r}: use recall@N, mrr@N or one of {known}")
    value = metrics[name]
    return None if value is None else float(value)


def breaches(
    result: dict, under: dict[str, float], over: dict[str, float] | None = None
) -> list[Breach]:
    """The limits this report breaks; a metric that does not apply breaks a lower limit."""
    found = []
    for name, limit in under.items():
        value = metric(result, name)
        if value is None or value < limit:
            found.append(Breach(name, value, limit, under=True))
    for name, limit in (over or {}).items():
        value = metric(result, name)
        if value is not None and value > limit:
            found.append(Breach(name, value, limit, under=False))
    return found


def deltas(old: dict, new: dict) -> list[tuple[str, float | None, float | None, float | None]]:
    """(metric, old, new, new - old) for every numeric metric either report has."""
    names = list(dict.fromkeys([*old.get("metrics", {}), *new.get("metrics", {})]))
    rows = []
    for name in names:
        before, after = old.get("metrics", {}).get(name), new.get("metrics", {}).get(name)
        change = after - before if before is not None and after is not None else None
        rows.append((name, before, after, change))
    return rows


def _at_rank(result: dict, which: str, n: int) -> float | None:
    answerable = [c for c in result["cases_detail"] if c["answerable"]]
    if not answerable:
        return None
    ranks = [c["evidence_rank"] for c in answerable]
    if which == "recall":
        return sum(1 for r in ranks if r is not None and r <= n) / len(answerable)
    return sum(1 / r for r in ranks if r is not None and r <= n) / len(answerable)
