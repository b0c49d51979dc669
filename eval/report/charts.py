"""The evaluation reports' charts, as PNG data URIs a self-contained HTML page can embed.

Each chart is drawn on its own `matplotlib.figure.Figure` with an Agg canvas: no pyplot
and no global backend switch, so reports can be written from several threads at once.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
DPI = 150


@dataclass(frozen=True)
class Chart:
    """A rendered chart: `src` is a `data:image/png;base64,...` URI, `alt` describes it."""

    src: str
    alt: str


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    return figure, axes


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _share(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _pct(value: float | None, decimals: int = 0) -> str:
    return "n/a" if value is None else f"{100 * value:.{decimals}f}%"


def _empty(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color="0.4")


def _grouped_bars(
    axes: Axes,
    groups: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    decimals: int = 0,
) -> None:
    """One cluster per group, one bar per series, each labelled with its percentage."""
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = axes.bar(
            xs, [_share(v) for v in values], width, label=name, color=PALETTE[i % len(PALETTE)]
        )
        labels = [_pct(v, decimals) for v in values]
        axes.bar_label(bars, labels=labels, padding=2, fontsize=8)
    axes.set_xticks(range(len(groups)), groups)
    axes.set_ylim(0, 1.12)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=len(series), frameon=False)


def per_type_bars(by_type: Mapping[str, Mapping], overall: Mapping) -> Chart:
    """Coverage and accuracy per case type; one "all" group when the cases have no types."""
    groups = dict(by_type) or {"all": overall}
    names = list(groups)
    labels = [f"{name}\n(n={groups[name].get('cases', '?')})" for name in names]
    figure, axes = _figure(max(5.2, 1.0 * len(names) + 2), 3.4)
    _grouped_bars(
        axes,
        labels,
        {key: [groups[n].get(key) for n in names] for key in ("coverage", "accuracy")},
    )
    axes.set_title("Coverage and accuracy per case type", fontsize=11)
    alt = "Bar chart of coverage and accuracy per case type: " + "; ".join(
        f"{n}: coverage {_pct(groups[n].get('coverage'))}, "
        f"accuracy {_pct(groups[n].get('accuracy'))}"
        for n in names
    )
    return Chart(_png(figure), alt)


def confidence_histograms(cases: Sequence[Mapping], threshold: float) -> Chart:
    """Overlaid histograms of the probe confidence, answerable vs unanswerable cases."""
    sides: dict[str, list[float]] = {"answerable": [], "unanswerable": []}
    for case in cases:
        if case.get("probe_confidence") is not None:
            side = "answerable" if case.get("answerable") else "unanswerable"
            sides[side].append(float(case["probe_confidence"]))
    figure, axes = _figure(5.2, 3.4)
    shown = {side: values for side, values in sides.items() if values}
    if shown:  # side by side in each bin: overlaid bars would blend into a third colour
        axes.hist(
            list(shown.values()),
            bins=[i / 20 for i in range(21)],
            color=[PALETTE[list(sides).index(side)] for side in shown],
            label=[f"{side} (n={len(values)})" for side, values in shown.items()],
        )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not any(sides.values()):
        _empty(axes, "no confidences recorded")
    axes.axvline(threshold, color="0.2", linestyle="--", linewidth=1)
    axes.annotate(
        f"threshold {threshold:.2f}",
        (threshold, 1),
        xycoords=("data", "axes fraction"),
        xytext=(4, -4),
        textcoords="offset points",
        va="top",
        fontsize=8,
    )
    axes.set_xlim(0, 1)
    axes.set_xlabel("confidence (whatever the threshold)")
    axes.set_ylabel("cases")
    axes.set_title("Confidence: answerable vs unanswerable cases", fontsize=11)
    if any(sides.values()):
        axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, 0.92))
    alt = (
        f"Histograms of copqa's confidence for {len(sides['answerable'])} answerable and "
        f"{len(sides['unanswerable'])} unanswerable cases, with the abstention threshold "
        f"at {threshold:.2f} marked"
    )
    return Chart(_png(figure), alt)


def threshold_curve(curve: Sequence[Mapping], threshold: float) -> Chart:
    """Coverage, precision and accuracy as the abstention threshold moves."""
    figure, axes = _figure(5.2, 3.4)
    xs = [float(point["threshold"]) for point in curve]
    for i, key in enumerate(("coverage", "precision", "accuracy")):
        axes.plot(
            xs, [_share(p.get(key)) for p in curve], label=key, color=PALETTE[i], marker=".", ms=4
        )
    if not curve:
        _empty(axes, "no threshold curve recorded")
    axes.axvline(
        threshold, color="0.2", linestyle="--", linewidth=1, label=f"current {threshold:.2f}"
    )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.05)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel("abstention threshold")
    axes.set_title("Coverage / precision trade-off over the threshold", fontsize=11)
    axes.legend(frameon=False, fontsize=8, loc="lower left")
    nearest = min(curve, key=lambda p: abs(float(p["threshold"]) - threshold), default=None)
    at = (
        f"; at {float(nearest['threshold']):.2f}: coverage {_pct(nearest.get('coverage'))}, "
        f"precision {_pct(nearest.get('precision'))}, accuracy {_pct(nearest.get('accuracy'))}"
        if nearest
        else ""
    )
    alt = (
        f"Line chart of coverage, precision and accuracy over {len(curve)} abstention "
        f"thresholds from 0 to 1, current threshold {threshold:.2f} marked{at}"
    )
    return Chart(_png(figure), alt)


def retriever_bars(retrievers: Mapping[str, Mapping[str, float]], metrics: Sequence[str]) -> Chart:
    """BEIR metrics grouped by metric, one bar per retriever."""
    figure, axes = _figure(max(6.4, 0.5 * len(metrics) * len(retrievers) + 1), 3.6)
    series = {name: [m.get(k) for k in metrics] for name, m in retrievers.items()}
    _grouped_bars(axes, list(metrics), series, decimals=1)
    axes.set_title("Retrieval quality per retriever", fontsize=11)
    alt = "Grouped bar chart of retrieval metrics per retriever: " + "; ".join(
        f"{name}: " + ", ".join(f"{k} {_pct(m.get(k), 1)}" for k in metrics)
        for name, m in retrievers.items()
    )
    return Chart(_png(figure), alt)
