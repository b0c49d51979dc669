"""report.html: self-contained (inline CSS, charts as PNG data URIs, no script, no fetch).

Every value from a result reaches the page through `_esc` (or `_link`); the page's
Content-Security-Policy is a second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import eval.report.charts as charts
from eval.report.wording import (
    HEADLINE,
    beir_metrics,
    counts,
    failures_first,
    fmt,
    grouped_metrics,
    maintainers_only,
    outcome,
    resolve,
    when,
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d232b;background:#f6f7f9;margin:0}
main{max-width:1500px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 10px}
.meta{color:#5b6573;margin:0 0 18px}.private{color:#9a1c1c}.note,.dim{color:#5b6573}.note{font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:12px 14px}
.card b{display:block;font-size:26px}.card span{color:#5b6573;font-size:13px}
.card.bad{border-color:#c0392b;background:#fdf0ee}
.groups{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px;align-items:start}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #dde1e6;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.num{text-align:right;white-space:nowrap}
caption{text-align:left;font-weight:600;padding:4px 0}code{font-size:12px;color:#5b6573}
.judged{border-left:4px solid #E69F00;padding:2px 0 2px 14px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:14px}
.charts.single{max-width:900px}
figure{margin:0;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:8px}
figure img{width:100%;height:auto}figcaption{color:#5b6573;font-size:12px}
.cases{table-layout:fixed;font-size:13px}.cases td{overflow-wrap:anywhere}.text{white-space:pre-wrap}
tr.fail{background:#fdf6f5}tr.fail td:first-child{border-left:4px solid #c0392b}
tr.pass td:first-child{border-left:4px solid #2e8b57}
.tag{display:inline-block;background:#eef1f4;border-radius:4px;padding:0 5px;font-size:12px}
.evidence ul{margin:2px 0 6px;padding-left:16px}.evidence ul.plain{list-style:none;padding-left:0}
table.narrow{width:auto;min-width:50%}.narrow th:not(:first-child){text-align:right}
.ok{color:#2e8b57;font-weight:700}.failed{color:#c0392b;font-weight:600}.passed{color:#2e8b57;font-weight:600}
"""
CASE_COLUMNS = [  # (header, width in %)
    ("Case", 7),
    ("Question", 15),
    ("Gold answer", 14),
    ("copqa's answer", 20),
    ("Cited vs gold evidence", 23),
    ("Confidence", 7),
    ("Outcome", 14),
]


def _esc(value: object) -> str:
    return html.escape(str(value))


def _page(title: str, body: list[str]) -> str:
    # The policy is a second line of defence: no script runs and nothing is fetched even if
    # some markup escaped `_esc`.
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head>\n<body><main>\n"
        + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def _link(text: object, url: object) -> str:
    """`text`, linked only to an http(s) URL."""
    if isinstance(url, str) and urlparse(url).scheme in ("http", "https"):
        return f'<a href="{_esc(url)}" rel="noopener noreferrer">{_esc(text)}</a>'
    return _esc(text)


def _figure(chart: charts.Chart, caption: str) -> str:
    return (
        f'<figure><img src="{chart.src}" alt="{_esc(chart.alt)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _table(header: list[str], rows: list[list[str]], caption: str = "", cls: str = "") -> str:
    """A table of header texts and rows of ready-made cells (`<td>` strings)."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in rows)
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f'<table class="{cls}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _num(key: str, value: object) -> str:
    return f'<td class="num">{_esc(fmt(key, value))}</td>'


def html_cases(result: Mapping) -> str:
    metrics, k, cases = result.get("metrics", {}), result.get("k"), result.get("cases_detail", [])
    threshold = float(result.get("threshold") or 0.0)
    groups = grouped_metrics(metrics)
    labels = {key: label for entries in groups.values() for key, label in entries}
    name = Path(str(result.get("cases_file", ""))).name
    invalid = metrics.get("invalid_citations") or 0
    failures = sum(c.get("correct") is False for c in cases)
    warning = maintainers_only(result)
    body = [
        f"<h1>copqa evaluation: {_esc(name)}</h1>",
        f'<p class="meta">{_esc(when(result.get("created_at", "")))} · answerer '
        f"{_esc(result.get('answerer'))} · k = {_esc(k)} · threshold {threshold:.2f} · "
        f"{_esc(counts(metrics))} · store "
        f"{_esc(result.get('store'))}</p>",
        *([f'<p class="private"><b>{_esc(warning)}</b></p>'] if warning else []),
        '<section class="cards">',
        *(
            f'<div class="card"><b>{_esc(fmt(key, metrics.get(key)))}</b>'
            f"<span>{_esc(labels.get(key, key))}</span></div>"
            for key in filter(None, (resolve(metrics, h) for h in HEADLINE))
        ),
        f'<div class="card{" bad" if invalid else ""}"><b>{_esc(fmt("cases", invalid))}</b>'
        "<span>Invalid citation markers (must be 0)</span></div></section>",
        '<h2>All metrics</h2><section class="groups">',
        *(
            _table(
                ["Metric", "Value"],
                [
                    [f"<td>{_esc(label)} <code>{_esc(m)}</code></td>", _num(m, metrics.get(m))]
                    for m, label in rows
                ],
                caption=group,
            )
            for group, rows in groups.items()
        ),
        "</section>",
    ]
    if judged := result.get("llm_judged"):
        rows = [[f"<td>{_esc(key)}</td>", _num(str(key), v)] for key, v in judged.items()]
        body.append(
            '<section class="judged"><h2>LLM-judged</h2><p class="note">An LLM graded these '
            "answers: an opinion, kept apart from the deterministic metrics above.</p>"
            f"{_table(['Metric', 'Value'], rows, cls='narrow')}</section>"
        )
    body += [
        '<h2>Charts</h2><section class="charts">',
        _figure(
            charts.per_type_bars(result.get("by_type") or {}, metrics),
            "Coverage counts a type's answerable cases; accuracy all its cases.",
        ),
        _figure(
            charts.confidence_histograms(cases, threshold),
            "Confidence whatever the threshold: left of the dashed line copqa declines.",
        ),
        _figure(
            charts.threshold_curve(result.get("curve", []), threshold),
            "Raising the threshold trades coverage for precision.",
        ),
        "</section>",
    ]
    if by_type := result.get("by_type"):
        columns = list(dict.fromkeys(c for figures in by_type.values() for c in figures))
        rows = [
            [f"<td>{_esc(t)}</td>", *(_num(c, f.get(c)) for c in columns)]
            for t, f in by_type.items()
        ]
        body += ["<h2>By type</h2>", _table(["Type", *columns], rows, cls="narrow")]
    cols = "".join(f'<col style="width:{w}%">' for _, w in CASE_COLUMNS)
    head = "".join(f"<th>{_esc(h)}</th>" for h, _ in CASE_COLUMNS)
    body += [
        f'<h2>Cases</h2><p class="note">{failures} failures first, then '
        f"{len(cases) - failures} passes.</p>",
        f'<table class="cases"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>',
        *(_case_row(case, k) for case in failures_first(cases)),
        "</tbody></table>",
    ]
    return _page(f"copqa evaluation: {name}", body)


def _case_row(case: Mapping, k: object) -> str:
    failed = case.get("correct") is False
    answer = _esc(case.get("answer") or "")
    if not case.get("answered"):
        answer = f"<i>declined</i> {answer}"
    confidence = "n/a" if case.get("confidence") is None else f"{case['confidence']:.2f}"
    probe = case.get("probe_confidence")
    if probe is not None and probe != case.get("confidence"):
        confidence += f'<br><span class="dim">probe {probe:.2f}</span>'
    verdict = f"{'✗' if failed else '✓'} {outcome(case, k)}"
    return (
        f'<tr class="{"fail" if failed else "pass"}" data-case="{_esc(case.get("id"))}">'
        f'<td>{_esc(case.get("id"))}<br><span class="tag">{_esc(case.get("type") or "untyped")}</span></td>'
        f'<td class="text">{_esc(case.get("question") or "")}</td>'
        f'<td class="text">{_esc(case.get("gold_answer") or "")}</td>'
        f'<td class="text">{answer}</td><td>{_evidence(case)}</td><td class="num">{confidence}</td>'
        f'<td><span class="{"failed" if failed else "passed"}">{_esc(verdict)}</span><br>'
        f'<span class="dim">{_esc(" · ".join(_case_figures(case)))}</span></td></tr>'
    )


def _evidence(case: Mapping) -> str:
    """What the answer cited (✓ where a citation holds gold evidence), then the gold evidence."""
    cited = [
        f"<li>[{_esc(c.get('n'))}] {_link(c.get('title') or 'untitled', c.get('url'))} "
        f'<span class="dim">{_esc(" · ".join(str(c[f]) for f in ("where", "author", "date") if c.get(f)))}</span>'
        + (
            ' <span class="ok" title="holds gold evidence">✓</span>'
            if c.get("holds_evidence")
            else ""
        )
        + "</li>"
        for c in case.get("citations") or []
    ]
    gold = [
        f'<li>“{_esc(e.get("quote") or "")}” <span class="dim">{_esc(e.get("locator") or "")}</span></li>'
        for e in case.get("gold_evidence") or []
    ]
    return (
        f'<div class="evidence"><b>Cited</b><ul class="plain">{"".join(cited) or "<li>none</li>"}</ul>'
        f"<b>Gold</b><ul>{''.join(gold) or '<li>none (unanswerable)</li>'}</ul></div>"
    )


def _case_figures(case: Mapping) -> list[str]:
    figures = []
    for key, label in (("token_f1", "F1"), ("answer_similarity", "similarity")):
        if case.get(key) is not None:
            figures.append(f"{label} {case[key]:.2f}")
    if case.get("grounded") is not None:
        figures.append(f"grounded {fmt('grounded', case['grounded'])}")
    if case.get("expert_hit") is not None:
        experts = ", ".join(map(str, case.get("experts") or [])) or "none"
        figures.append(f"experts {experts} {'✓' if case['expert_hit'] else '✗'}")
    if case.get("seconds") is not None:
        figures.append(f"{case['seconds']:.2f} s")
    return figures


def html_beir(result: Mapping) -> str:
    retrievers = result.get("retrievers", {})
    columns = beir_metrics(retrievers)
    name = result.get("dataset")
    rows = [
        [f"<td>{_esc(n)}</td>", *(_num(c, f.get(c)) for c in columns)]
        for n, f in retrievers.items()
    ]
    chart = charts.retriever_bars(retrievers, [c for c in columns if c != "seconds"])
    body = [
        f"<h1>copqa retrieval evaluation: {_esc(name)}</h1>",
        f'<p class="meta">{_esc(when(result.get("created_at", "")))} · '
        f"{_esc(fmt('queries', result.get('queries')))} queries over "
        f"{_esc(fmt('corpus', result.get('corpus')))} documents · {_esc(result.get('folder'))}</p>",
        '<section class="charts single">',
        _figure(chart, "Higher is better for every metric."),
        "</section><h2>Retrievers</h2>",
        _table(["Retriever", *columns], rows, cls="narrow"),
    ]
    return _page(f"copqa retrieval evaluation: {name}", body)
