"""Greetings, self-introductions and thanks: what people type around a question or an answer.

"hi all! I'm a CS student and new here. How do I build R from source?" asks one thing;
searched whole, the greeting and the introduction pull in other newcomers' introductions.
A quoted "Thanks, that worked!" or "Hi Jane," answers nothing either.
"""

from __future__ import annotations

import re

_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|howdy|greetings|dear|good (morning|afternoon|evening)|"
    r"hope (you|everyone|all)|happy (monday|friday|new year))\b",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^(many |huge |big )?(thanks|thank you|thx|ty|cheers|much appreciated|appreciate (it|any))\b",
    re.IGNORECASE,
)
# Only introductions that say nothing of the topic: "I'm a new Ubuntu user" names one.
_INTRODUCTION = re.compile(
    r"^(my name is \w+|(i'?m|i am) new here|new here|(i )?(just )?joined\b|"
    r"(i'?m|i am) (a|an) [\w\s-]{0,30}\b(student|newbie|beginner|newcomer))",
    re.IGNORECASE,
)
_PIECES = re.compile(
    r"(?<=[.!?\n])\s+|\s+[-\u2014\u2013]\s+"
)  # sentences, and "just joined — where ..."
_WORD = re.compile(r"\w+")
# Words: a longer sentence that opens with "hi" or "I'm a" likely says what it is about.
SHORT_GREETING = 7
SHORT_INTRODUCTION = 8


def is_small_talk(sentence: str) -> bool:
    """A greeting, thanks or self-introduction with nothing else in it."""
    text = sentence.strip().lstrip("@").strip()
    if not text:
        return True
    words = len(_WORD.findall(text))
    if words <= SHORT_INTRODUCTION and _INTRODUCTION.match(text):
        return True
    if words > SHORT_GREETING or "?" in text:  # "hi, how do I ...?" is the question itself
        return False
    return bool(_GREETING.match(text) or _THANKS.match(text))


def without_small_talk(question: str) -> str:
    """The question with its greetings, thanks and introductions removed; whole if nothing is left."""
    pieces = [p for p in _PIECES.split(question) if p.strip()]
    kept = [p for p in pieces if not is_small_talk(p)]
    return " ".join(kept) if kept else question
