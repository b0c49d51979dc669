"""Forgetting a member reaches their uploads and the @-mentions of them, and survives a kill
of the request's first step: whoever changes the store next finishes it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from copqa.assistant import Assistant
from copqa.errors import StoreError
from copqa.settings import Settings
from copqa.store.store import Store
from ingest.factory import build_pipeline
from ingest.forgetting import forget_member
from ingest.scrubbing import FORMER_MEMBER
from ingest.uploads import Upload, UploadDesk
from ui.services import PageServices

# (id, thread, author, text)
POSTS = [
    ("p1", "t1", "Jane Doe", "The kiln at the ceramics bench fires to cone six overnight."),
    ("p2", "t1", "Omar", "Thanks @Jane Doe, I will load the kiln on Friday evening then."),
    ("p3", "t2", "Omar", "Who set the bandsaw fence? @jane doe knows the blade tension."),
    ("p4", "t2", "Lena", "The bandsaw blade is changed by the woodshop stewards."),
    ("p5", "t3", "Lena", "The glaze buckets are stirred before every use, @Janet says."),
]
UPLOADED = "# Kiln notes\n\nJane's own kiln notes: the cone pack sits on the middle shelf.\n"


@pytest.fixture
def guild(tmp_path: Path, embedder):
    export = tmp_path / "guild.jsonl"
    export.write_text(
        "".join(
            json.dumps({"id": i, "thread_id": t, "author": a, "text": x, "created_at": n}) + "\n"
            for n, (i, t, a, x) in enumerate(POSTS, start=1_740_000_000)
        ),
        encoding="utf-8",
    )
    settings = Settings(home=tmp_path / "home")
    store = Store(settings.home, embedder.identity, embedder.dimension)
    pipeline = build_pipeline(settings, store, embedder)
    assert pipeline.ingest([export]).added == 3
    notes = tmp_path / "kiln-notes.md"
    notes.write_text(UPLOADED, encoding="utf-8")
    desk = UploadDesk(settings.home, pipeline, 2**20)
    assert desk.receive([Upload(notes, "kiln-notes.md")], uploader="Jane Doe").added
    yield store, pipeline, export
    store.close()


def _texts(store: Store) -> str:
    return "\n".join(c.text for batch in store.iter_chunks() for c in batch)


def test_uploads_and_mentions_go_with_the_member(guild, embedder) -> None:
    store, pipeline, export = guild
    uploads = store.home / "uploads"
    assert any(uploads.iterdir()) and "cone pack" in _texts(store)
    report = forget_member(store, pipeline, {"Jane Doe"})
    assert (report.posts_removed, report.uploads_removed, report.mentions_replaced) == (1, 1, 2)
    assert list(uploads.iterdir()) == []
    assert store.sources() and all(s.uploader != "Jane Doe" for s in store.sources())
    texts = _texts(store)
    assert "cone pack" not in texts and "cone six" not in texts
    assert not re.search(r"@jane\b", texts, re.IGNORECASE) and texts.count(FORMER_MEMBER) == 2
    assert "@Janet" in texts  # another member whose name starts alike keeps hers
    # The vectors were made again from the new text, and nothing else is stored.
    chunks = [c for batch in store.iter_chunks() for c in batch]
    assert store.vector_ids() == {c.id for c in chunks}
    mention = next(c for c in chunks if "Thanks a former member" in c.text)
    stored = store.stored_vectors([mention.id])[mention.id]
    from copqa.embedding import embedding_text

    assert float(stored @ embedder.embed([embedding_text(mention)])[0]) > 0.99
    # Ingesting the unchanged export again brings none of it back.
    again = pipeline.ingest([export])
    assert again.added == again.updated == 0
    assert _texts(store) == texts


def test_a_recorded_request_is_finished_by_the_next_change(guild, tmp_path: Path, embedder) -> None:
    store, pipeline, export = guild
    store.request_forget(["Jane Doe"])  # the first step of a forget whose run was then killed
    assert "cone six" in _texts(store)
    # A store opened without a pipeline cannot finish it, and says so rather than go on.
    bare = Store(store.home, embedder.identity, embedder.dimension)
    try:
        with pytest.raises(StoreError, match="forgetting a member did not finish"):
            bare.delete_source(store.sources()[0].id)
    finally:
        bare.close()
    assert pipeline.ingest([export]).added == 0  # a plain ingest of the unchanged export...
    texts = _texts(store)  # ...finished the forget first
    assert "cone six" not in texts and "cone pack" not in texts
    assert not re.search(r"@jane\b", texts, re.IGNORECASE)
    assert store.pending_forgets() == []
    assert np.isfinite(list(store.stored_vectors(sorted(store.vector_ids())).values())).all()


def test_the_page_finishes_a_pending_forget_when_it_starts(guild, embedder) -> None:
    store, _, _ = guild
    store.request_forget(["Jane Doe"])
    settings = Settings(home=store.home)
    PageServices.open(settings, Assistant.on_store(settings, embedder, store))
    assert store.pending_forgets() == []
    assert "cone six" not in _texts(store) and "cone pack" not in _texts(store)
