"""The Ask tab: a chat with streamed, cited answers, example questions and 👍/👎 feedback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from copqa.assistant import check_question
from copqa.community import Account
from copqa.errors import QuestionTooLongError
from copqa.models import Answer
from copqa.settings import AnswerSettings
from ui import render
from ui.services import PageServices, require

SEARCHING = "*Searching the community's knowledge…*"
EXAMPLES = 4


def build_ask_tab(services: PageServices, account: gr.State) -> None:
    """The chat, under a `gr.Tab` opened by the caller."""
    settings = services.settings
    examples = settings.app.examples or services.assistant.store.open_questions(EXAMPLES)
    chat = gr.Chatbot(
        label="Conversation",
        height=440,
        feedback_options=("Like", "Dislike"),
        latex_delimiters=render.NO_MATHS,
        elem_id="chat",
    )
    with gr.Row():
        question = gr.Textbox(
            label="Your question",
            placeholder="How do I …?",
            autofocus=True,
            scale=5,
            elem_id="question",
        )
        ask = gr.Button("Ask", variant="primary", scale=1)
    if examples:
        gr.Examples(examples=[[e] for e in examples], inputs=question, label="People ask")
    sources = gr.HTML(elem_id="sources")
    turns = gr.State([])  # question ids of this conversation's answers, in order
    rated = gr.State(None)  # (question id, rating) the comment box refers to
    with gr.Row():
        comment = gr.Textbox(
            label="Comment on your 👍/👎 (optional)", scale=5, elem_id="feedback-comment"
        )
        send = gr.Button("Send comment", scale=1)
    note = gr.Markdown()

    def respond(
        message: str, history: list[dict], turns: list[int], who: Account, request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        message = message.strip()
        if not message:
            yield history, "", gr.skip(), turns
            return
        require(
            settings.app.allow_anonymous or bool(who.name),
            "a member (asking needs an account here)",
        )
        asked = [_text(m["content"]) for m in history if m.get("role") == "user"]
        _refuse_oversized(message, asked, history, settings.answer)
        history = [*history, {"role": "user", "content": message},
                   {"role": "assistant", "content": SEARCHING}]  # fmt: skip
        yield history, "", "", turns
        answer: Answer | None = None
        readable = services.readable(who)
        for item in services.assistant.ask_streaming(message, history=asked, where=readable):
            if isinstance(item, Answer):
                answer = item
            else:
                history[-1] = {"role": "assistant", "content": render.markdown_text(item) + " ▌"}
                yield history, "", gr.skip(), turns
        assert answer is not None  # ask_streaming always ends with the answer
        question_id = services.activity.record_question(
            _asker(who, request), message, answer.answered, answer.confidence,
            [c.chunk.title for c in answer.citations],
        )  # fmt: skip
        history[-1] = {"role": "assistant", "content": render.answer_markdown(answer)}
        yield history, "", render.sources_html(answer), [*turns, question_id]

    def rate(
        turns: list[int], who: Account, liked: gr.LikeData, request: gr.Request
    ) -> tuple[Any, str]:
        turn = _turn(liked.index)
        if liked.liked not in (True, False) or turn is None or turn >= len(turns):
            return None, ""
        rating = 1 if liked.liked else -1
        services.activity.record_feedback(turns[turn], rating, "", _asker(who, request))
        return (turns[turn], rating), "Thanks! Add a comment below if you like."

    def add_comment(
        text: str, rated: tuple[int, int] | None, who: Account, request: gr.Request
    ) -> tuple[str, str]:
        if rated is None:
            return text, "Rate an answer with 👍 or 👎 first."
        services.activity.record_feedback(rated[0], rated[1], text, _asker(who, request))
        return "", "Comment saved. Thank you."

    ask_inputs = [question, chat, turns, account]
    ask_outputs = [chat, question, sources, turns]
    question.submit(respond, ask_inputs, ask_outputs, api_name="ask")
    ask.click(respond, ask_inputs, ask_outputs, api_visibility="private")
    chat.like(rate, [turns, account], [rated, note], api_visibility="private")
    send.click(add_comment, [comment, rated, account], [comment, note], api_visibility="private")


def _refuse_oversized(
    message: str, asked: list[str], history: list[dict], limits: AnswerSettings
) -> None:
    """A question or conversation over the limits is refused before it is searched or logged."""
    try:
        check_question(message, asked, limits, sum(len(_text(m.get("content"))) for m in history))
    except QuestionTooLongError as exc:
        raise gr.Error(str(exc), title="Too long") from exc


def _turn(index: Any) -> int | None:
    """The answer a chat message index points at (user and assistant messages alternate)."""
    position = index[0] if isinstance(index, (list, tuple)) else index
    if not isinstance(position, int) or position % 2 == 0:
        return None
    return position // 2


def _asker(who: Account, request: gr.Request | None) -> str:
    if who.name:
        return who.name
    session = getattr(request, "session_hash", None) or "unknown"
    return f"anonymous:{session[:8]}"


def _text(content: Any) -> str:
    """A chat message's text, whether Gradio hands it over as a string or as parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return str(content)
