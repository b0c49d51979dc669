"""Member text that tries to steer an assistant rather than tell people something.

A post may hold a prompt injection: copqa's own fence tags, a fake "SYSTEM:" turn, an
order to ignore the rules. The LLM path fences such text as data (copqa/answering/llm.py); the
extractive answerer never quotes it, since it answers nobody's question and would show an
attacker's orders as the community's knowledge.
"""

from __future__ import annotations

import re

# Any spelling a reader might take for a fence tag: `</source>`, `</ source>`, `< /SOURCE >`.
FENCE = re.compile(r"<\s*/?\s*source\b", re.IGNORECASE)
_STEERING = re.compile(
    r"(^|>)\s*(system|assistant)\s*:|"  # a fake turn, not "Operating system: Debian"
    r"\b(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+|your\s+)?"
    r"(previous|prior|above|earlier|former)\s+(instructions|rules|prompts?|messages)\b|"
    r"\b(reveal|print|show|repeat)\s+(me\s+)?(the|your)\s+(system\s+)?prompt\b|"
    r"\byou\s+are\s+now\s+([\w']+\s+){0,3}(assistant|bot|ai|model|chatbot)\b",
    re.IGNORECASE,
)


def steers_the_assistant(text: str) -> bool:
    """Whether the text reads as orders to an assistant (or tries to open or close a fence)."""
    return bool(FENCE.search(text) or _STEERING.search(text))
