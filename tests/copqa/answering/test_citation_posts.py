"""A citation names the post its quote was written in, not the first post by the same member.

On a real Zulip topic the asker posts twice: the question, and after a reply the fix they
found. A quote of the fix must link to the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from copqa.answering.answerers import ExtractiveAnswerer
from copqa.cli.output import answer_json
from copqa.models import Chunk, Document, Post, PostRef, ScoredChunk
from copqa.retrieval.retrievers import DenseRetriever
from copqa.sentences import passage_sentences, post_header
from copqa.store.records import SourceRecord
from ingest.loaders.discussions.zulip import ZulipArchiveLoader
from ui.render import citation_card

TOPIC = "https://zulip2.cloud.ucar.edu/#narrow/stream/10-python-questions/topic/xarray.20DataSet.20dimensions"
FIX = "Turns out that what I was trying can be accomplished using DataArray dimensions"


@pytest.fixture(scope="module")
def thread(shared_data: Path) -> Document:
    loaded = ZulipArchiveLoader().load(shared_data / "zulip-ncar-esds")
    return next(
        d
        for d in loaded
        if isinstance(d, Document)
        and d.channel == "#python-questions"
        and d.title == "xarray DataSet dimensions"
    )


def _fix(thread: Document) -> Post:
    return next(p for p in thread.posts if p.text.startswith(FIX))


def test_the_thread_is_the_asker_twice(thread: Document) -> None:
    asker, answer, fix = thread.posts
    assert asker.author_name == fix.author_name == "Stephen Yeager"
    assert answer.author_name == "Deepak Cherian"
    assert fix is _fix(thread) and fix.id != asker.id


def test_a_quote_of_the_askers_fix_links_to_the_fix(pipeline, store, embedder, thread) -> None:
    source = SourceRecord(
        id="zulip", kind="zulip", locator=thread.path, uploader="", access="public"
    )
    pipeline.write([(source, thread)])
    passages = DenseRetriever(store, embedder).retrieve(FIX, 3)
    # Several sentences of a passage, so the asker's own words are quoted beside the reply.
    answerer = ExtractiveAnswerer(embedder, per_passage=3).with_threshold(0)
    answer = answerer.answer(FIX, passages)
    fix = _fix(thread)
    quoted = [
        (citation, quote)
        for citation in answer.citations
        for quote in citation.quotes
        if quote.text.startswith(FIX)
    ]
    assert quoted, answer.answer
    citation, quote = quoted[0]
    assert quote.author == "Stephen Yeager"
    assert quote.post_id == fix.id
    post = citation.post(quote)
    assert post is not None and post.url == fix.url and post.created_at == fix.created_at
    assert post.url.startswith(TOPIC) and post.url != thread.posts[0].url
    card = citation_card(citation)
    assert f'href="{fix.url}"' in card  # beside the reply's own link, when both are quoted
    assert f'href="{thread.posts[0].url}"' not in card
    machine = [q for c in answer_json(answer)["citations"] for q in c["quotes"]]  # type: ignore[union-attr]
    assert {"text": quote.text, "author": "Stephen Yeager", "post_id": fix.id} in machine


def test_a_header_typed_inside_a_post_stays_that_posts_words() -> None:
    text = (
        "Ana (2024-05-01): The log said this, pasted as it was:\n"
        "Bob (2024-04-30): restart the cluster before the job runs again.\n"
        "Cy (2024-05-02): Clear the scratch folder and resubmit the job."
    )
    posts = (PostRef("a1", "Ana"), PostRef("c1", "Cy"))
    chunk = Chunk(id="t:1", document_id="t", source_id="s", text=text, kind="zulip",
                  title="Jobs", thread_id="t", post_ids=("a1", "c1"), posts=posts)  # fmt: skip
    found = {s.text: (s.author, s.post_id) for s in passage_sentences(chunk)}
    typed = "Bob (2024-04-30): restart the cluster before the job runs again."
    assert found[typed] == ("Ana", "a1")
    assert found["Clear the scratch folder and resubmit the job."] == ("Cy", "c1")


def test_a_window_that_opens_inside_a_split_post_credits_that_post() -> None:
    text = (
        "rest of a long answer about the scheduler queue.\nDee (2024-05-03): Thanks, it runs now."
    )
    chunk = Chunk(id="t:2", document_id="t", source_id="s", text=text, kind="zulip",
                  title="Jobs", thread_id="t", author="Cy", post_ids=("c1", "d1"),
                  posts=(PostRef("c1", "Cy"), PostRef("d1", "Dee")))  # fmt: skip
    found = {s.text: (s.author, s.post_id) for s in passage_sentences(chunk)}
    assert found["rest of a long answer about the scheduler queue."] == ("Cy", "c1")
    assert found["Thanks, it runs now."] == ("Dee", "d1")


def test_a_post_without_a_name_loses_its_header_too() -> None:
    text = post_header("", None) + "The passage of a line that names nobody as its writer."
    chunk = Chunk(id="t:0", document_id="t", source_id="s", text=text, kind="jsonl",
                  title="Lines", thread_id="t", post_ids=("l1",), posts=(PostRef("l1", ""),))  # fmt: skip
    [sentence] = passage_sentences(chunk)
    assert sentence.text == "The passage of a line that names nobody as its writer."
    assert sentence.post_id == "l1"


def test_words_a_member_quotes_are_never_credited_to_them(shared_data: Path, pipeline, store):
    # On the real Zulip topic, Anderson Banihirwe quote-replies the question put to him.
    loaded = ZulipArchiveLoader().load(shared_data / "zulip-ncar-esds")
    casper = next(
        d for d in loaded if isinstance(d, Document) and d.title == "Casper dask dashboard errors"
    )
    source = SourceRecord(
        id="zulip", kind="zulip", locator=casper.path, uploader="", access="public"
    )
    pipeline.write([(source, casper)])
    chunks = store.chunks([(cid, 1.0) for cid in sorted(store.chunk_ids())])
    sentences = [s for scored in chunks for s in passage_sentences(scored.chunk)]
    asked = [s for s in sentences if "any idea what's going on here" in s.text]
    assert asked, "the question itself is still quoted, as its asker's"
    assert all(s.author != "Anderson Banihirwe" for s in asked)
    his = [s for s in sentences if s.author == "Anderson Banihirwe"]
    assert any(s.text.startswith("There were some issues with distributed") for s in his)


def test_a_sentence_in_two_parts_of_a_post_is_cited_from_the_part_that_goes_on(
    shared_data: Path, pipeline, store, embedder
) -> None:
    # Katie Dagon's reply in "Searching for Data" is long in word pieces (paths and links),
    # so it is stored in two overlapping parts: the first ends with the sentence below, the
    # second opens with it and goes on to say which file to take.
    loaded = ZulipArchiveLoader().load(shared_data / "zulip-ncar-esds")
    topic = next(d for d in loaded if isinstance(d, Document) and d.title == "Searching for Data")
    source = SourceRecord(
        id="zulip", kind="zulip", locator=topic.path, uploader="", access="public"
    )
    pipeline.write([(source, topic)])
    sentence = "Monthly atmospheric CESM2-LE output is available on casper here"
    holding = [c for c in store.chunks_by_id(store.chunk_ids()).values() if sentence in c.text]
    assert len(holding) == 2, "the post is no longer cut in two parts: the test needs another"
    # Ranked first, the part the sentence ends; second, the part that goes on from it.
    ending, going_on = sorted(holding, key=lambda c: "surface temperature" in c.text)
    question = "where on casper can i grab monthly CESM2 large ensemble atmosphere timeseries?"
    passages = [ScoredChunk(ending, 0.9), ScoredChunk(going_on, 0.8)]
    answer = ExtractiveAnswerer(embedder).with_threshold(0).answer(question, passages)
    cited = [c for c in answer.citations if any(q.text.startswith(sentence) for q in c.quotes)]
    assert [c.chunk.id for c in cited] == [going_on.id]
    assert "For example the TS subdirectory has surface temperature." in cited[0].chunk.text
