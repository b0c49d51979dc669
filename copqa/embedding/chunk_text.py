"""What the model reads for a stored chunk."""

from __future__ import annotations

from copqa.models import Chunk

# ~25 and ~15 word pieces: with a 200-piece chunk, within the model's 256.
TITLE_CHARS = 100
SECTION_CHARS = 60


def embedding_text(chunk: Chunk) -> str:
    """What the model reads for a chunk: title and section for context, then its text.

    A reply window's thread question is left to the keyword index: embedded with it, every
    window of a thread read alike, and the one holding the answer ranked lower (zulip_qa).
    """
    section = chunk.heading.rsplit(" / ", 1)[-1][:SECTION_CHARS]
    context = [chunk.title[:TITLE_CHARS], section if section != chunk.title else ""]
    return "\n".join([*(c for c in context if c), chunk.text])
