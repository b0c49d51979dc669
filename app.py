"""The chat page: `python app.py` serves the community's assistant on http://127.0.0.1:7860.

On first start with an empty store it ingests the sample community shipped in `sample/`
(set COPQA_SAMPLE= to start empty). Gradio only: every answer comes from `copqa`.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from copqa.offline import enforce_offline

enforce_offline()

import gradio as gr  # noqa: E402  (after the offline variables)

from copqa.assistant import Assistant  # noqa: E402
from copqa.models import Answer, Citation, iso_day  # noqa: E402
from copqa.settings import Settings  # noqa: E402
from ingest.factory import build_pipeline  # noqa: E402

SAMPLE = Path(__file__).resolve().parent / "sample"


def main() -> None:
    settings = Settings()
    assistant = Assistant.from_settings(settings)
    sample = os.environ.get("COPQA_SAMPLE", str(SAMPLE))
    if sample and assistant.store.counts().chunks == 0:
        print(f"First start: ingesting the sample community from {sample} ...", flush=True)
        pipeline = build_pipeline(settings, assistant.store, assistant.embedder)
        report = pipeline.ingest([Path(sample) / "docs", Path(sample) / "slack"])
        print(
            f"  {report.added} documents, {report.chunks} chunks in {report.seconds:.0f} s",
            flush=True,
        )
    page = build_page(assistant)
    page.queue(default_concurrency_limit=4).launch(
        server_name=os.environ.get("COPQA_HOST", "127.0.0.1"),
        server_port=int(os.environ.get("COPQA_PORT", "7860")),
    )


def build_page(assistant: Assistant) -> gr.Blocks:
    with gr.Blocks(title="copqa: ask the community") as page:
        gr.Markdown(
            "## Ask the community\nAnswers come from the community's own documents and "
            "discussions; every claim cites its source."
        )
        chat = gr.Chatbot(label="Conversation", height=420)
        question = gr.Textbox(label="Your question", placeholder="How do I ...?", autofocus=True)
        sources = gr.HTML(label="Sources")

        def respond(message: str, history: list[dict]) -> tuple[list[dict], str, str]:
            message = message.strip()
            if not message:
                return history, "", ""
            asked = [m["content"] for m in history if m.get("role") == "user"]
            answer = assistant.ask(message, history=asked)
            history = [
                *history,
                {"role": "user", "content": message},
                {"role": "assistant", "content": answer.answer},
            ]
            return history, "", citations_html(answer)

        question.submit(respond, [question, chat], [chat, question, sources], api_name="ask")
    return page


def citations_html(answer: Answer) -> str:
    """Citation cards and who to ask; all member text is escaped, so a post cannot inject markup."""
    parts = [_card(c) for c in answer.citations]
    if answer.unsupported:
        dropped = "".join(f"<li>{html.escape(s)}</li>" for s in answer.unsupported)
        parts.append(f"<p>Left out, as no source supports them:</p><ul>{dropped}</ul>")
    if answer.experts:
        chips = " ".join(
            f'<span class="expert" title="{html.escape(e.why, quote=True)}">{html.escape(e.name)}</span>'
            for e in answer.experts
        )
        parts.append(f"<p><b>Who to ask:</b> {chips}</p>")
    return "".join(parts) or "<p>No source in the community's knowledge matches this question.</p>"


def _card(citation: Citation) -> str:
    chunk = citation.chunk
    where = chunk.channel or chunk.path.rsplit("/", 1)[-1]
    if chunk.page is not None:
        where += f", p. {chunk.page}"
    meta = " · ".join(html.escape(p) for p in (chunk.author, where, iso_day(chunk.created_at)) if p)
    link = ""
    if chunk.url.startswith(("http://", "https://")):
        link = f' <a href="{html.escape(chunk.url, quote=True)}" target="_blank" rel="noopener">open</a>'
    return (
        f'<div class="citation"><b>[{citation.n}] {html.escape(chunk.title)}</b>{link}'
        f'<br><small>{meta}</small><blockquote style="white-space: pre-wrap">'
        f"{html.escape(chunk.text)}</blockquote></div>"
    )


if __name__ == "__main__":
    main()
