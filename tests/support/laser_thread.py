"""Pieces of the retrieval tests' stored threads: a source, the laser thread's posts, what is stored."""

from __future__ import annotations

from copqa.store import SourceRecord, Store


def source_record(uploader: str = ""):
    return SourceRecord(
        id=f"src{uploader}",
        kind="slack",
        locator=f"/nowhere/{uploader}",
        uploader=uploader,
        access="public",
    )


LASER_QUESTION = (
    "Why does the Kraken laser suddenly fail to cut through 3 mm birch plywood at full power?"
)
# Replies that restate the problem: nearer the question than the answer is, and long enough
# that each fills a window, so the accepted answer sits three windows after the question.
LASER_CHATTER = [
    "Same here: the Kraken laser stopped cutting through 3 mm birch plywood at full power "
    "for me too this week, it only marks the surface now. " * 4,
    "Also seeing it, the Kraken laser at full power no longer cuts 3 mm birch plywood that "
    "it cut fine a month ago, the back of the sheet is untouched. " * 4,
]
LASER_ANSWER = (
    "Clean the focus lens and the three mirrors with isopropyl alcohol and lens tissue: a "
    "brown film of smoke residue absorbs the beam, so the power no longer reaches the wood. " * 3
)
LASER_ELSEWHERE = [
    "Cutting 3 mm birch plywood on the Kraken laser: 65% power, 12 mm/s, two passes.",
    "The Kraken laser cuts 6 mm plywood at full power and 6 mm/s; thicker needs the bandsaw.",
    "Plywood with a glue core does not cut through cleanly on the laser, buy laser birch.",
]


def stored_chunks(store: Store) -> list:
    return sorted(store.chunks_by_id(store.chunk_ids()).values(),
                  key=lambda c: c.id)  # fmt: skip
