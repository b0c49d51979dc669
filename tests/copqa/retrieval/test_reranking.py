"""The re-ranker: its features, its training on solved threads, and its place in retrieval."""

from __future__ import annotations

import numpy as np

from copqa.models import Chunk, Document, Post, PostRef
from copqa.retrieval.reranking import FEATURES, Reranker, features, reranker_path
from copqa.retrieval.retrievers import HybridRetriever
from copqa.store.keyword_index import KeywordIndex
from copqa.tuning.reranker import train
from tests.support.laser_thread import (
    LASER_ANSWER,
    LASER_CHATTER,
    LASER_QUESTION,
    source_record,
    stored_chunks,
)
from tests.support.solved_threads import solved_threads


def _window(n: int, *authors: str, thread: str = "t", text: str = "...") -> Chunk:
    posts = tuple(PostRef(f"{thread}{n}{a}", a, opener=(n == 0 and i == 0))
                  for i, a in enumerate(authors))  # fmt: skip
    return Chunk(id=f"{thread}:{n}", document_id=thread, source_id="s", text=text, kind="zulip",
                 title="kiln", thread_id=thread, posts=posts, asker="Lena")  # fmt: skip


def test_features_say_where_a_passage_stands_in_its_thread() -> None:
    opening = _window(0, "Lena", text="How hot does the kiln get for stoneware glaze?")
    more = _window(1, "Lena", text="It is the big kiln by the door, the one with the dial.")
    answer = _window(2, "Tobias", "Lena", text="Cone 6 stoneware glaze fires at 1220 C.")
    guide = Chunk(id="g:0", document_id="g", source_id="s", text="Kilns cool for a day.",
                  kind="markdown", title="Kiln guide")  # fmt: skip
    candidates = [opening, more, answer, guide]
    index = KeywordIndex.build(((c.id, c.text, "public") for c in candidates), generation=1)
    similarity = {"t:0": 0.8, "t:1": 0.7, "t:2": 0.6, "g:0": 0.5}
    rows = features("stoneware glaze kiln temperature", candidates, similarity, {"t:0": 1.0}, index)
    column = {name: rows[:, i] for i, name in enumerate(FEATURES)}
    assert list(column["opening_window"]) == [1, 0, 0, 0]
    assert list(column["asker_only"]) == [1, 1, 0, 0]  # the opener and Lena's second post
    assert list(column["answer_share"]) == [0, 0, 0.5, 0]
    assert list(column["document"]) == [0, 0, 0, 1]
    assert list(column["keyword"]) == [1, 0, 0, 0]
    assert np.allclose(column["below_best"], [0, -0.1, -0.2, -0.3])
    assert np.allclose(column["thread_below_best"], [0, 0, 0, -0.3])  # the thread's best is 0.8
    assert column["rare_terms"][2] > column["rare_terms"][1]  # "stoneware glaze" held


def test_a_reranker_learnt_from_solved_threads_is_saved_and_ranks_their_replies(
    pipeline, store, embedder, settings, tmp_path
) -> None:
    report = pipeline.ingest([solved_threads(tmp_path / "many", 45)])
    assert report.failed == []
    retriever = HybridRetriever(store, embedder, per_document=5)
    reranker = train(retriever, store)
    assert reranker is not None and "45 solved threads" in reranker.trained_on
    assert np.isfinite(reranker.weights).all()
    # The thread that matched as a whole holds the answer: the strongest lesson here.
    weight = dict(zip(FEATURES, reranker.weights, strict=True))
    assert weight["thread_below_best"] > 0
    reranker.save(reranker_path(settings.home))
    assert Reranker.load(reranker_path(settings.home)) == reranker
    ranked = HybridRetriever(store, embedder, reranker=reranker).retrieve("clean the lathe", 3)
    assert "To clean the lathe" in ranked[0].chunk.text


def test_a_reranker_that_weighs_the_askers_words_down_moves_the_reply_up(
    pipeline, store, embedder
) -> None:
    lena = [(LASER_QUESTION, "Lena"), *((t, "Lena") for t in LASER_CHATTER)]
    texts = [*lena, (LASER_ANSWER, "Tobias")]
    posts = tuple(Post(id=f"laser-{i}", author_id=name, author_name=name, text=t,
                       created_at=1_740_000_000 + i) for i, (t, name) in enumerate(texts))  # fmt: skip
    pipeline.write([(source_record(), Document(id="laser", kind="zulip", title="Kraken laser",
                                         channel="laser", posts=posts))])  # fmt: skip
    answer = next(c.id for c in stored_chunks(store) if c.post_ids == ("laser-3",))
    question = "The Kraken laser only marks 3 mm birch plywood at full power now, what to do?"
    plain = HybridRetriever(store, embedder, per_document=3, thread_answers=False, asker_weight=0)
    assert plain.retrieve(question, 3)[0].chunk.id != answer
    weights = tuple(-1.0 if name == "asker_only" else 0.0 for name in FEATURES)
    zero = tuple(0.0 for _ in FEATURES)
    reranker = Reranker(weights=weights, mean=zero, scale=tuple(1.0 for _ in FEATURES))
    plain.reranker = reranker
    assert plain.retrieve(question, 3)[0].chunk.id == answer
