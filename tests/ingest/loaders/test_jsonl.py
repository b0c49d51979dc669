"""JsonlLoader on the BEIR-style evaluation corpora, and on small threaded or broken files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from copqa.models import Document, LoadFailure, stable_id
from ingest.loaders.discussions.jsonl import JsonlLoader, jsonl_document_id


@pytest.fixture(scope="module")
def eval_sets(shared_data: Path) -> Path:
    return shared_data.parent / "eval"


def load(path: Path, loader: JsonlLoader | None = None) -> tuple[list[Document], list[LoadFailure]]:
    items = list((loader or JsonlLoader()).load(path))
    return (
        [i for i in items if isinstance(i, Document)],
        [i for i in items if isinstance(i, LoadFailure)],
    )


def write_lines(path: Path, *rows: object) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_clapnq_passages_are_one_post_documents(eval_sets: Path) -> None:
    corpus = eval_sets / "clapnq" / "corpus.jsonl"
    documents, failures = load(corpus)
    assert failures == []
    assert len(documents) == 597
    assert len({d.id for d in documents}) == 597
    assert {len(d.posts) for d in documents} == {1}
    assert {(d.kind, d.channel) for d in documents} == {("jsonl", "clapnq")}
    first = documents[0]
    assert first.id == jsonl_document_id("clapnq", "p317cf8844098")
    assert first.title == "Forecasting"
    assert first.path == str(corpus)
    (post,) = first.posts
    assert post.id == stable_id("jsonl", "clapnq", "post", "p317cf8844098")
    assert post.text.startswith("Seasonality is a characteristic of a time series")
    assert (post.author_id, post.author_name, post.created_at) == ("", "", None)


def test_stackfaq_threads_keep_their_text_verbatim(eval_sets: Path) -> None:
    documents, failures = load(eval_sets / "stackfaq" / "corpus.jsonl")
    assert failures == []
    assert len(documents) == 125
    by_id = {d.id: d for d in documents}
    faq0 = by_id[jsonl_document_id("stackfaq", "faq0")]
    assert faq0.title == "Strikethrough with GitHub Markdown"
    assert faq0.channel == "stackfaq"
    # Plain text, not HTML: a literal tag in the answer stays.
    assert "<del> ... </del>" in faq0.posts[0].text
    assert jsonl_document_id("stackfaq", "faq124") in by_id


def test_ids_come_from_the_file_not_its_location(eval_sets: Path, tmp_path: Path) -> None:
    original = eval_sets / "stackfaq" / "corpus.jsonl"
    copy = tmp_path / "stackfaq" / "corpus.jsonl"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    ids = [(d.id, d.posts[0].id) for d in load(original)[0]]
    assert [(d.id, d.posts[0].id) for d in load(copy)[0]] == ids
    assert [(d.id, d.posts[0].id) for d in load(original)[0]] == ids
    renamed = [d.id for d in load(copy, JsonlLoader(dataset="faq"))[0]]
    assert renamed[0] == jsonl_document_id("faq", "faq0") != ids[0][0]


def test_detect(eval_sets: Path, tmp_path: Path) -> None:
    loader = JsonlLoader()
    assert loader.detect(eval_sets / "clapnq" / "corpus.jsonl")
    # BEIR queries beside their corpus are questions, and evaluation cases have no text.
    assert not loader.detect(eval_sets / "stackfaq" / "queries.jsonl")
    assert not loader.detect(eval_sets / "clapnq" / "cases.jsonl")
    assert loader.detect(write_lines(tmp_path / "posts.jsonl", "", {"id": 1, "text": "hi"}))
    assert not loader.detect(write_lines(tmp_path / "posts.json", {"id": 1, "text": "hi"}))
    assert not loader.detect(write_lines(tmp_path / "rows.jsonl", {"id": 1, "body": "hi"}))
    assert not loader.detect(write_lines(tmp_path / "list.jsonl", [1, 2]))
    assert not loader.detect(tmp_path / "missing.jsonl")
    assert not loader.detect(tmp_path)


def test_lines_with_a_thread_id_form_one_chronological_thread(tmp_path: Path) -> None:
    posts = write_lines(
        tmp_path / "forum.jsonl",
        {"id": "q1", "text": "How do I reset my password?\nI tried twice.", "author": "ann"},
        {"id": "a2", "thread_id": "q1", "text": "Later answer", "created_at": 1700000600},
        {
            "id": "a1",
            "thread_id": "q1",
            "text": "Use the link.",
            "created_at": "2023-11-14T22:18:20Z",
        },
        {"id": "a3", "thread_id": "q1", "text": "Undated: stays after a1"},
        {"id": "n1", "title": "Notice", "text": "Office closed", "created_at": 1700000000000},
        {"id": "e1", "text": "   "},
        {"id": "d1", "text": "Bad date", "created_at": "last Tuesday", "url": "https://x.org/d1"},
    )
    documents, failures = load(posts)
    assert failures == []
    thread, notice, dated = documents
    assert thread.id == jsonl_document_id("forum", "q1")
    assert [p.text for p in thread.posts] == [
        "How do I reset my password?\nI tried twice.",
        "Use the link.",
        "Undated: stays after a1",
        "Later answer",
    ]
    assert [p.created_at for p in thread.posts] == [None, 1700000300, None, 1700000600]
    assert thread.title == "How do I reset my password?"
    assert (thread.author, thread.posts[0].author_id) == ("ann", "ann")
    assert (notice.title, notice.created_at) == ("Notice", 1700000000)
    assert (dated.created_at, dated.url, dated.posts[0].url) == (None, *["https://x.org/d1"] * 2)


def test_malformed_lines_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(
        b'{"id": "1", "text": "first"}\n'
        b'{"id": "2", "text": \n'
        b"[1, 2]\n"
        b'{"text": "no id"}\n'
        b'{"id": "5"}\n'
        b'{"id": "6", "text": "caf\xe9"}\n'
        b'{"id": "1", "text": "again"}\n'
        b'{"_id": "8", "text": "last"}\n'
    )
    documents, failures = load(path)
    assert [d.posts[0].text for d in documents] == ["first", "last"]
    assert [(f.path, f.error) for f in failures] == [
        (f"{path}:2", "malformed JSON: Expecting value (column 21)"),
        (f"{path}:3", "a JSON list, not an object"),
        (f"{path}:4", "no 'id' or '_id'"),
        (f"{path}:5", "no 'text' string"),
        (f"{path}:6", "not UTF-8 (byte 25)"),
        (f"{path}:7", "duplicate id '1'"),
    ]


def test_failures_are_capped_per_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "noise.jsonl", *(["not json"] * 25), {"id": 1, "text": "ok"})
    documents, failures = load(path)
    assert [d.posts[0].text for d in documents] == ["ok"]
    assert len(failures) == 21
    assert failures[-1] == LoadFailure(str(path), "5 more malformed lines (25 in all)")
    assert load(tmp_path / "missing.jsonl")[1][0].error.startswith("unreadable")
