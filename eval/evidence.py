"""Does a passage hold a piece of gold evidence? Whitespace and case folded; a quote that
straddles two chunks counts when most of it (a prefix or a suffix) is in the passage."""

from __future__ import annotations

import math
import re

_SPACE = re.compile(r"\s+")
MOST = 0.6  # share of a quote's words a passage must hold, as one run from its start or end


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def holds(passage: str, quote: str) -> bool:
    haystack, needle = normalise(passage), normalise(quote)
    if not needle:
        return False
    if needle in haystack:
        return True
    words = needle.split(" ")
    least = max(math.ceil(len(words) * MOST), 1)
    for size in range(len(words) - 1, least - 1, -1):
        if " ".join(words[:size]) in haystack or " ".join(words[-size:]) in haystack:
            return True
    return False
