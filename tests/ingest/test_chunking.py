"""Reply windows of a discussion: they carry the thread's question and asker, and still fit
the model whole (title, question and replies together)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from copqa.embedding import embedding_text
from copqa.models import Document
from copqa.store.keyword_index import keyword_text
from ingest.chunking import CONTEXT_CHARS, Chunker, thread_question
from ingest.loaders.discussions.jsonl import JsonlLoader

QUESTION = (
    "How do I stop the Prusa MK4 from under-extruding on long PETG prints? The first hour is "
    "fine, then the walls get thin and gappy, the extruder clicks now and then, and the "
    "filament looks chewed where the gear grips it. I dried the spool at 65 C for six hours "
    "and swapped the nozzle for a new 0.4 mm brass one, and I print at 240 C, 50 mm/s."
)
REPLIES = [
    ("Tobias", "Clicking plus chewed filament is the heat creep pattern: the heatbreak warms up "
               "over the first hour, PETG softens above the melt zone and the gear grinds it. "
               "Check that the hotend fan spins at full speed the whole print. " * 2),
    ("Priya", "Same here last winter."),
    ("Priya", "Lower the print temperature to 235 C and the speed for perimeters to 40 mm/s, "
              "and raise the idler tension one turn. " * 5),
    ("Ines", "Thanks, that worked! The fan was clogged with fluff."),
    ("Marco", "For the record, the MK4 firmware 6.1 added a filament load check. "
              "The Prusa knowledge base has an article on heat creep with PETG and photos. " * 4),
    ("Tobias", "Also clean the extruder gear with a brass brush every few spools, PETG dust "
               "builds up in the teeth and the grip weakens until it slips and clicks. " * 3),
]  # fmt: skip


def write_thread(folder: Path, title: str = "") -> Path:
    """A real JSONL export of one thread: Ines asks, four members reply."""
    rows = [{"id": "q", "thread_id": "t", "author": "Ines", "created_at": 1_740_000_000,
             "title": title, "text": QUESTION}]  # fmt: skip
    for n, (author, text) in enumerate(REPLIES):
        rows.append({"id": f"r{n}", "thread_id": "t", "author": author,
                     "created_at": 1_740_000_100 + n, "text": text})  # fmt: skip
    path = folder / "printing.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def load_thread(path: Path) -> Document:
    (document,) = JsonlLoader().load(path)
    assert isinstance(document, Document)
    return document


def test_reply_windows_carry_the_question_and_asker(embedder, tmp_path: Path) -> None:
    document = load_thread(write_thread(tmp_path))
    chunks = Chunker(embedder.tokenize, 200, 30).chunk(document, "s")
    assert len(chunks) >= 3
    opener = document.posts[0].id
    first, *replies = chunks
    assert first.post_ids[0] == opener
    assert first.context == ""  # the question is in its text already
    question = thread_question(document)
    assert question.startswith("How do I stop the Prusa MK4") and question.endswith(" …")
    assert len(question) <= CONTEXT_CHARS + 2
    for chunk in replies:
        assert chunk.post_ids[0] != opener
        assert chunk.context == question
        assert chunk.asker == "Ines"
        # The keyword index reads the question with the replies; the model reads the replies.
        assert question in keyword_text(chunk)
        assert question not in embedding_text(chunk)


def test_every_window_of_a_long_thread_fits_the_model(embedder, tmp_path: Path) -> None:
    # A title as long as embedding_text keeps, of rare words that cost many pieces each.
    title = "Prusa MK4 PETG under-extrusion, heatbreak/heat-creep, idler (MK4S, 6.1.3-RC2) ??"
    document = load_thread(write_thread(tmp_path, title))
    chunks = Chunker(embedder.tokenize, 200, 30).chunk(document, "s")
    assert any(c.context for c in chunks)
    pieces = {c.id: len(embedder.tokenize(embedding_text(c))) for c in chunks}
    # [CLS] and [SEP] take two of the model's places: beyond them the model cuts silently.
    assert max(pieces.values()) + 2 <= embedder.max_tokens == 256, pieces


def test_a_long_post_is_cut_in_parts_that_overlap_more_in_a_thread_than_alone(
    embedder, tmp_path: Path
) -> None:
    # Twelve numbered sentences of ~20 word pieces each: well over one 200-piece chunk.
    long_post = " ".join(
        f"Step {n}: set the kiln controller to ramp {n * 10} degrees an hour until it holds."
        for n in range(1, 13)
    )
    rows = [
        {"id": "a", "thread_id": "t", "author": "Ines", "created_at": 1_740_000_000,
         "text": "How do I program a slow glaze firing on the kiln controller?"},
        {"id": "b", "thread_id": "t", "author": "Tobias", "created_at": 1_740_000_100,
         "text": long_post},
        {"id": "alone", "author": "Tobias", "created_at": 1_740_000_200, "text": long_post},
    ]  # fmt: skip
    export = tmp_path / "kiln.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    thread, alone = (d for d in JsonlLoader().load(export) if isinstance(d, Document))
    chunker = Chunker(embedder.tokenize, 200, 20)

    def shared_steps(chunks: list) -> int:
        parts = [c for c in chunks if "Step 1:" in c.text or "Step 12:" in c.text]
        steps = [{s for s in range(1, 13) if f"Step {s}:" in c.text} for c in parts]
        return sum(len(a & b) for a, b in itertools.pairwise(steps))

    in_thread = shared_steps(chunker.chunk(thread, "s"))
    on_its_own = shared_steps(chunker.chunk(alone, "s"))
    # In a thread, a sentence at a cut opens the next part too (~60 pieces: 2-3 steps);
    # a post alone is cut as a file is, with the usual small overlap.
    assert in_thread >= 2 and on_its_own <= 1
