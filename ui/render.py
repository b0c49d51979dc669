"""HTML and Markdown for the page, from copqa's results. No Gradio here.

Every piece of member text goes through `html.escape` (or `markdown_text`) before it is put
into markup, so a post holding `<script>`, an `onerror=` attribute or a `javascript:`
link shows as text and runs nothing. Links are only ever made from http(s) URLs.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence

from copqa.access import PUBLIC, group_name, known
from copqa.answering import Calibration
from copqa.community import FeedbackRecord, Gap, RunRecord, Shelf
from copqa.models import Answer, Chunk, Citation, Expert, PostRef, iso_day

# Gradio's Markdown, Chatbot and Dataframe render `$$...$$` as maths (KaTeX) by default.
# Member text must show as typed, delimiters included: components that show it get none.
NO_MATHS: list[dict[str, str | bool]] = []

CSS = """
.copqa-card {border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 12px; margin: 8px 0;}
.copqa-card .where {color: var(--body-text-color-subdued); font-size: 0.9em;}
.copqa-card blockquote {white-space: pre-wrap; margin: 6px 0; padding-left: 10px;
  border-left: 3px solid var(--border-color-primary); max-height: 14em; overflow-y: auto;}
.copqa-card mark {background: #fde68a; color: #111; padding: 0 2px;}
.copqa-chip {display: inline-block; border-radius: 12px; padding: 2px 10px; margin: 2px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);}
.copqa-unsupported {color: #b45309;}
.copqa-table td, .copqa-table th {padding: 2px 8px; text-align: left; vertical-align: top;}
"""


def answer_markdown(answer: Answer) -> str:
    """The answer as the chat shows it: member text escaped, what the check refused counted.

    A refused sentence is never shown, not even struck through: it may be an injection's.
    """
    text = markdown_text(answer.answer)
    if answer.unsupported:
        text += f"\n\n*{_left_out(answer)}*"
    if answer.answered:
        text += f"\n\n<sub>confidence {answer.confidence:.0%}</sub>"
    return text


def sources_html(answer: Answer) -> str:
    """Under an answer: citation cards and who to ask; for an abstention, where to look."""
    if not answer.answered:
        return _abstention(answer)
    parts = ["<h4>Sources</h4>", *(citation_card(c) for c in answer.citations)]
    if answer.unsupported:
        parts.append(f'<p class="copqa-unsupported">{_left_out(answer)}</p>')
    parts.append(experts_html(answer.experts))
    return "".join(parts)


def _left_out(answer: Answer) -> str:
    n = len(answer.unsupported)
    sentences = "sentence" if n == 1 else "sentences"
    return f"{n} {sentences} of the LLM's reply left out: no cited source supports them."


def citation_card(citation: Citation) -> str:
    chunk = citation.chunk
    posts = [p for p in (citation.post(q) for q in citation.quotes) if p is not None]
    day = iso_day(posts[0].created_at) if posts else iso_day(chunk.created_at)
    meta = " · ".join(html.escape(part) for part in (*_byline(citation), chunk.place, day) if part)
    return (
        f'<div class="copqa-card" data-citation="{citation.n}">'
        f"<b>[{citation.n}] {html.escape(chunk.title)}</b>{_post_links(posts, chunk.url)}"
        f'<div class="where">{meta}</div>'
        f"<blockquote>{highlighted(chunk.text, [q.text for q in citation.quotes])}</blockquote>"
        "</div>"
    )


def _byline(citation: Citation) -> tuple[str, ...]:
    """Who a card credits: a thread's quoted members; a file's uploader, its author a claim."""
    chunk = citation.chunk
    if chunk.posts or chunk.thread_id:
        authors = [q.author for q in citation.quotes if q.author] or [chunk.author]
        return (", ".join(dict.fromkeys(authors)),)
    if not chunk.uploader:
        return (chunk.author,)
    claim = chunk.author if chunk.author and chunk.author != chunk.uploader else ""
    return (f"uploaded by {chunk.uploader}", f"says it is by {claim}" if claim else "")


def highlighted(text: str, quotes: Sequence[str]) -> str:
    """The passage, escaped, with each quoted sentence wrapped in <mark>.

    A quote is found with any run of spaces or line breaks between its words, and with
    list marks or a post header between them, as the answerer unwraps lines.
    """
    spans: list[tuple[int, int]] = []
    for quote in quotes:
        words = quote.split()
        if not words:
            continue
        pattern = r"[\s>*\-]+".join(re.escape(w) for w in words)
        found = re.search(pattern, text)
        if found:
            spans.append(found.span())
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def experts_html(experts: Sequence[Expert]) -> str:
    if not experts:
        return ""
    chips = " ".join(
        f'<span class="copqa-chip" title="{html.escape(e.why, quote=True)}">'
        f"{html.escape(e.name)}</span>"
        for e in experts
    )
    return f"<p><b>Who to ask:</b> {chips}</p>"


def _abstention(answer: Answer) -> str:
    nearest: dict[str, Chunk] = {}
    for passage in answer.retrieved:
        nearest.setdefault(passage.chunk.document_id, passage.chunk)
    if not nearest:
        return "<p>Nothing in the community's knowledge comes close to this question yet.</p>"
    rows = "".join(
        f"<li>{html.escape(c.title)} <span class='where'>({html.escape(c.place)}"
        f"{', ' + iso_day(c.created_at) if c.created_at else ''})</span>{_link(c.url, 'open')}</li>"
        for c in list(nearest.values())[:5]
    )
    people = experts_html(answer.experts).replace("Who to ask:", "People who discussed it:")
    return (
        "<h4>No answer in the community's knowledge</h4>"
        f"<p>The closest threads and documents:</p><ul>{rows}</ul>{people}"
    )


def upload_report_markdown(added: Sequence[str], present: Sequence[str],
                           refused: Sequence[tuple[str, str]], chunks: int) -> str:  # fmt: skip
    lines = []
    if added:
        lines.append(
            f"**Added** ({chunks} passages): " + ", ".join(markdown_text(n) for n in added)
        )
    if present:
        lines.append("**Already in the library**: " + ", ".join(markdown_text(n) for n in present))
    for name, why in refused:
        lines.append(f"**Refused** {markdown_text(name)}: {markdown_text(why)}")
    return "\n\n".join(lines) or "No files were given."


def library_rows(shelves: Sequence[Shelf]) -> list[list[object]]:
    """Rows for the library table (plain text cells; the table shows them as text)."""
    return [
        [
            s.name,
            s.entry.kind,
            s.entry.uploader or ", ".join(f"#{c.lstrip('#')}" for c in s.entry.channels),
            iso_day(s.entry.updated_at),
            s.entry.documents,
            s.entry.chunks,
            level_label(s.entry.access),
        ]
        for s in shelves
    ]


def level_label(level: str) -> str:
    """An access level for people: `everyone`, `members`, `maintainers`, `group #core@1a2b3c4d`."""
    level = known(level)
    if group := group_name(level):
        return f"group {group}"
    return {PUBLIC: "everyone"}.get(level, level)


def gaps_html(gaps: Sequence[Gap], examples: int = 3) -> str:
    if not gaps:
        return "<p>No knowledge gaps yet: every question so far was answered confidently.</p>"
    items = []
    for gap in gaps:
        why = ", ".join(f"{n} {html.escape(r)}" for r, n in gap.reasons().items())
        shown = "".join(f"<li>{html.escape(q.question)}</li>" for q in gap.questions[:examples])
        items.append(
            f'<div class="copqa-card"><b>{html.escape(gap.topic)}</b> '
            f'<span class="where">— {gap.count} question{"s" * (gap.count != 1)} ({why})</span>'
            f"<ul>{shown}</ul></div>"
        )
    return "".join(items)


def feedback_html(feedback: Sequence[FeedbackRecord]) -> str:
    if not feedback:
        return "<p>No feedback yet.</p>"
    rows = "".join(
        f"<tr><td>{'👍' if f.rating > 0 else '👎'}</td><td>{html.escape(f.question)}</td>"
        f"<td>{html.escape(f.comment)}</td><td>{html.escape(f.given_by)}</td>"
        f"<td>{_when(f.given_at)}</td></tr>"
        for f in feedback
    )
    return (
        '<table class="copqa-table"><tr><th></th><th>Question</th><th>Comment</th>'
        f"<th>By</th><th>When</th></tr>{rows}</table>"
    )


def runs_html(runs: Sequence[RunRecord]) -> str:
    if not runs:
        return "<p>No ingestion yet.</p>"
    rows = []
    for run in runs:
        report = run.report or {}
        failed = report.get("failed") or []
        outcome = (
            f"{report.get('added', 0)} added, {report.get('updated', 0)} updated, "
            f"{report.get('unchanged', 0)} unchanged, {len(failed)} failed, "
            f"{report.get('chunks', 0)} passages in {report.get('seconds', 0):.0f} s"
            if run.report is not None
            else "did not finish"
        )
        paths = ", ".join(p.rsplit("/", 1)[-1] for p in run.paths)
        rows.append(
            f"<tr><td>{_when(run.started_at)}</td><td>{html.escape(paths)}</td>"
            f"<td>{html.escape(outcome)}</td></tr>"
        )
    return (
        '<table class="copqa-table"><tr><th>Started</th><th>Sources</th><th>Outcome</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def calibration_html(calibration: Calibration, curve: Sequence[dict[str, float]]) -> str:
    """Which confidence decides when copqa declines, and the curve its threshold came from."""
    source = html.escape(calibration.fitted_on)
    text = (
        f"<p>copqa declines below a confidence of <b>{calibration.threshold:.2f}</b> "
        f"(calibration fitted on {source}). <code>copqa tune</code> fits one on this community's solved "
        "threads; the evaluation report draws coverage and precision over the threshold on "
        "your own cases.</p>"
    )
    if not curve:
        return text
    rows = "".join(
        f"<tr><td>{_chosen(row['threshold'], calibration.threshold)}</td>"
        f"<td>{row['coverage']:.0%}</td><td>{row['declined']:.0%}</td>"
        f"<td>{row['balanced_accuracy']:.0%}</td></tr>"
        for row in curve
    )
    return (
        text + '<table class="copqa-table"><tr><th>Threshold</th><th>Solved threads answered '
        "from their replies</th><th>Declined with the thread removed</th>"
        "<th>Balanced accuracy</th></tr>" + rows + "</table>"
    )


def _chosen(threshold: float, chosen: float) -> str:
    return f"<b>{threshold:.2f}</b>" if threshold == chosen else f"{threshold:.2f}"


def _post_links(posts: Sequence[PostRef], fallback: str) -> str:
    """A link to each post the card quotes, in quoting order; else to the passage's place."""
    urls = list(dict.fromkeys(p.url for p in posts if p.url))
    if not urls:
        return _link(fallback, "open")
    if len(urls) == 1:
        return _link(urls[0], "open the post")
    return "".join(_link(url, f"post {n}") for n, url in enumerate(urls, 1))


def _link(url: str, label: str) -> str:
    if not url.startswith(("http://", "https://")):
        return ""
    return f' <a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{label}</a>'


def markdown_text(text: str) -> str:
    """Member text for a Markdown view: markup shows as text, links stay inert."""
    return html.escape(text, quote=False).replace("](", "]\\(")


def _when(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch))
