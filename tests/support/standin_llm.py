"""A deterministic stand-in for a remote LLM, implementing llama-index's LLM interface.

It records every prompt it is sent and replies with a script, so tests can check what
copqa sends and what it does with any reply. The only stand-in the project allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llama_index.core.llms import (
    CompletionResponse,
    CompletionResponseGen,
    CustomLLM,
    LLMMetadata,
)
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import Field, PrivateAttr


class StandInLLM(CustomLLM):
    reply: Callable[[str], str] = Field(default=lambda prompt: "")
    _prompts: list[str] = PrivateAttr(default_factory=list)

    @property
    def prompts(self) -> list[str]:
        return self._prompts

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="stand-in", is_chat_model=False)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self._prompts.append(prompt)
        return CompletionResponse(text=self.reply(prompt))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        self._prompts.append(prompt)
        text = self.reply(prompt)

        def tokens() -> CompletionResponseGen:
            sent = ""
            for word in text.split(" "):
                delta = word if not sent else " " + word
                sent += delta
                yield CompletionResponse(text=sent, delta=delta)

        return tokens()
