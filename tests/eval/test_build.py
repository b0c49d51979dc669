"""Evaluation cases built from solved threads: the real bicycles.meta dump, and hand-made threads."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from copqa.assistant import Assistant
from copqa.community import CommunityRecords
from copqa.embedding.embedder import Embedder
from copqa.models import SearchFilter
from copqa.settings import Settings
from copqa.store.store import Store
from eval.build import BuildResult, cases_from_threads, load_maintainers
from eval.evidence import holds, normalise
from ingest.factory import build_pipeline
from ingest.loaders.discussions.jsonl import jsonl_document_id
from tests.support.files import write_files

QUESTIONS = 50  # of the dump's 453: ingesting all of them takes over a minute on two cores


def reduced_dump(dump: Path, folder: Path, questions: int) -> Path:
    """A copy of `dump` with its first `questions` questions and what hangs off them."""
    posts = ET.parse(dump / "Posts.xml").getroot()
    first = sorted(int(r.get("Id", 0)) for r in posts if r.get("PostTypeId") == "1")[:questions]
    kept = {str(i) for i in first}
    rows = [r for r in posts if r.get("Id") in kept or r.get("ParentId") in kept]
    post_ids = {r.get("Id") for r in rows}
    comments = [r for r in ET.parse(dump / "Comments.xml").getroot() if r.get("PostId") in post_ids]
    folder.mkdir()
    for name, tag, kept_rows in (
        ("Posts.xml", "posts", rows),
        ("Comments.xml", "comments", comments),
    ):
        root = ET.Element(tag)
        root.extend(kept_rows)
        ET.ElementTree(root).write(folder / name, encoding="utf-8", xml_declaration=True)
    for name in ("Users.xml", "SOURCE"):  # SOURCE names the site, hence the channel
        shutil.copy(dump / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def bicycles(tmp_path_factory, shared_data: Path, embedder: Embedder):
    """A store holding part of the real bicycles.meta dump, and the cases built from it."""
    tmp = tmp_path_factory.mktemp("bicycles")
    dump = reduced_dump(shared_data / "stackexchange-bicycles-meta", tmp / "dump", QUESTIONS)
    settings = Settings(home=tmp / "home")
    store = Store(settings.home, embedder.identity, embedder.dimension)
    report = build_pipeline(settings, store, embedder).ingest([dump])
    assert report.failed == [] and report.added == QUESTIONS
    yield settings, store, cases_from_threads(store, kinds=("stackexchange",))
    store.close()


def test_accepted_answers_become_cases_quoting_them(bicycles) -> None:
    _, store, built = bicycles
    assert built.threads == QUESTIONS
    assert built.threads == sum(built.resolved_by.values()) + built.skipped
    assert len(built.cases) == sum(built.resolved_by.values())
    accepted = [c for c in built.cases if c["resolved_by"] == "accepted"]
    assert len(accepted) >= 15
    for case in accepted:
        (thread_id,) = case["exclude_documents"]
        _, thread = store.stored_document(thread_id)
        (answer,) = [p for p in thread.posts if p.accepted]
        (evidence,) = case["evidence"]
        assert normalise(evidence["quote"]) in normalise(answer.text)
        assert len(evidence["quote"].split()) >= 6
        assert evidence["locator"].startswith(
            f"bicycles.meta.stackexchange.com / {thread.title} / "
        )
        assert evidence["locator"].endswith(f" / {answer.author_name}")
        assert case["answerable"] is True and case["answer"] and case["question"]
        assert case["experts"] == [answer.author_name] and case["source"] == "stackexchange"
    assert len({c["id"] for c in built.cases}) == len(built.cases)
    # The same catalog gives the same cases, in the same order; `limit` keeps the first.
    again = cases_from_threads(store, kinds=("stackexchange",), limit=5)
    assert again.cases == built.cases[:5]
    assert cases_from_threads(store, kinds=("slack",)) == BuildResult()


def test_a_case_does_not_retrieve_its_own_thread(bicycles, embedder: Embedder) -> None:
    settings, store, built = bicycles
    assistant = Assistant.on_store(settings, embedder, store)
    cases = [c for c in built.cases if str(c["question"]).endswith("?")][:4]
    found_unfiltered = 0
    for case in cases:
        (thread_id,) = case["exclude_documents"]
        answer = assistant.ask(str(case["question"]), k=5)
        found_unfiltered += any(p.chunk.document_id == thread_id for p in answer.retrieved)
        where = SearchFilter(exclude_documents=(thread_id,))
        honest = assistant.ask(str(case["question"]), k=5, where=where)
        assert honest.retrieved, case["question"]
        assert all(p.chunk.document_id != thread_id for p in honest.retrieved)
    # The question is the thread's own title: without the filter its thread comes back.
    assert found_unfiltered >= len(cases) - 1


MAINTAINER_THREAD = [
    ("alice", "How do I reset the belt tension on the Kraken 2 laser cutter?"),
    ("bob", "No idea, sorry, maybe ask around in the workshop channel."),
    ("alice", "Thanks bob, I will ask there."),
    (
        "Priya",
        "Loosen the two idler bolts, then turn the tensioner until the belt deflects five "
        "millimetres. Tighten both bolts again afterwards.",
    ),
]
THANKED_THREAD = [
    ("carol", "My prints peel off the bed halfway through. Any idea what causes it?"),
    ("dan", "Try a glue stick on the sheet before every print."),
    ("carol", "Thanks, but it still peels off at the corners."),
    ("erin", "Clean the bed with isopropyl alcohol and raise the first layer temperature."),
    ("carol", "That worked, perfect!"),
]
NOTICE_THREAD = [
    ("frank", "Workshop notice: the laser cutter is booked all Saturday for the open day."),
    ("Priya", "Noted, I will put up a sign on the workshop door tomorrow morning."),
]
UNSOLVED_THREAD = [
    ("gina", "Where can I find spare nozzles for the resin printer?"),
    ("hal", "Good question, I have been wondering about the nozzles myself."),
]


def test_maintainer_and_thanked_replies_resolve_threads(
    tmp_path: Path, settings, pipeline, store
) -> None:
    threads = {
        "belt": MAINTAINER_THREAD,
        "peel": THANKED_THREAD,
        "notice": NOTICE_THREAD,
        "nozzles": UNSOLVED_THREAD,
    }
    lines = [
        json.dumps(
            {
                "id": f"{thread}-{n}",
                "thread_id": thread,
                "author": author,
                "text": text,
                "created_at": f"2025-03-{day:02d}T10:{n:02d}:00Z",
            }
        )
        for day, (thread, posts) in enumerate(threads.items(), start=1)
        for n, (author, text) in enumerate(posts)
    ]
    export = write_files(tmp_path / "export", {"workshop.jsonl": "\n".join(lines) + "\n"})
    assert pipeline.ingest([export]).added == 4
    with CommunityRecords.open(settings) as records:
        records.accounts.add("priya", "maintainer", "a long enough password")
        records.accounts.add("bob", "member", "another long password")
        maintainers = load_maintainers(records.accounts)
    assert maintainers == {"priya"}

    built = cases_from_threads(store, maintainers=maintainers)

    assert (built.threads, built.skipped) == (4, 2)  # the notice asks nothing; nozzles unsolved
    assert built.resolved_by == {"accepted": 0, "maintainer": 1, "thanked": 1}
    belt, peel = built.cases
    assert belt["question"] == MAINTAINER_THREAD[0][1]
    assert belt["resolved_by"] == "maintainer" and belt["experts"] == ["Priya"]
    assert belt["exclude_documents"] == [jsonl_document_id("workshop", "belt")]
    assert belt["evidence"] == [
        {
            "quote": MAINTAINER_THREAD[3][1].split(". ")[0] + ".",
            "locator": f"workshop / {MAINTAINER_THREAD[0][1]} / 2025-03-01 / Priya",
        }
    ]
    assert belt["answer"] == MAINTAINER_THREAD[3][1]
    # "Thanks, but it still peels" thanks nobody; "That worked" thanks the reply before it.
    assert peel["resolved_by"] == "thanked" and peel["experts"] == ["erin"]
    assert peel["evidence"][0]["quote"] == THANKED_THREAD[3][1]
    assert peel["exclude_documents"] == [jsonl_document_id("workshop", "peel")]
    for case in built.cases:  # what the runner checks: a stored passage holds the quote
        thread = case["exclude_documents"][0]
        chunks = [
            c for c in store.chunks_by_id(store.chunk_ids()).values() if c.document_id == thread
        ]
        assert any(holds(c.text, case["evidence"][0]["quote"]) for c in chunks)
    # Without maintainers the belt thread falls to the asker's thanks, to bob.
    plain = cases_from_threads(store)
    assert plain.resolved_by == {"accepted": 0, "maintainer": 0, "thanked": 2}
    assert plain.cases[0]["experts"] == ["bob"]
