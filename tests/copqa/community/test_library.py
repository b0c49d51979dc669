"""The members' and maintainers' side: library, deletion rights, questions, feedback, gaps."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from copqa.access import MAINTAINER
from copqa.assistant import Assistant
from copqa.community.accounts import ANONYMOUS, Account
from copqa.community.gaps import as_cases, knowledge_gaps
from copqa.community.library import Library
from copqa.errors import AccessDeniedError
from copqa.home import UPLOADS
from ingest.uploads import Upload, UploadDesk
from tests.support.accounts import AS_MEMBER
from tests.support.files import write_files

BOB = Account("bob", "member")
CLEO = Account("cleo", "member")
ADA = Account("ada", "maintainer")


@pytest.fixture
def desk(settings, pipeline) -> UploadDesk:
    return UploadDesk(settings.home, pipeline, max_bytes=2**20)


@pytest.fixture
def library(store, settings) -> Library:
    return Library(store, settings.home / UPLOADS)


def _upload(desk: UploadDesk, folder: Path, name: str, text: str, who: Account) -> None:
    path = write_files(folder, {name: text}) / name
    assert desk.receive([Upload(path, name)], who.name).added == [name]


def test_the_library_lists_filters_and_searches(desk, library, tmp_path, pipeline, shared_data):
    _upload(desk, tmp_path, "kiln.md", "# Kiln\n\nThe kiln is fired on Thursdays only.", BOB)
    pipeline.ingest([shared_data / "r-contributors/docs/bug_bbq"])
    names = [s.name for s in library.shelves(MAINTAINER)]
    assert sorted(names) == ["Bug_BBQ_retrospective.md", "kiln.md"]
    [kiln] = library.shelves(MAINTAINER, search="BOB")  # the uploader, case folded
    assert kiln.entry.uploader == "bob" and kiln.entry.chunks == 1 and kiln.entry.documents == 1
    assert {s.entry.kind for s in library.shelves(MAINTAINER, kind="markdown")} == {"markdown"}
    assert library.shelves(MAINTAINER, search="no such words anywhere") == []


def test_only_the_uploader_or_a_maintainer_may_delete(desk, library, store, tmp_path):
    _upload(desk, tmp_path / "a", "kiln.md", "# Kiln\n\nThe kiln is fired on Thursdays only.", BOB)
    _upload(
        desk, tmp_path / "b", "lathe.md", "# Lathe\n\nThe lathe chuck key hangs on a chain.", BOB
    )
    kiln, lathe = sorted(library.shelves(MAINTAINER), key=lambda s: s.name)
    for refused in (CLEO, ANONYMOUS):
        with pytest.raises(AccessDeniedError):
            library.delete(kiln.source_id, refused)
    library.delete(kiln.source_id, BOB)
    library.delete(lathe.source_id, ADA)
    assert (
        library.shelves(MAINTAINER) == []
        and store.counts().chunks == 0
        and store.vector_ids() == set()
    )
    assert not any(desk.folder.iterdir())  # the stored copies went too: they may come again
    _upload(desk, tmp_path / "c", "kiln.md", "# Kiln\n\nThe kiln is fired on Thursdays only.", BOB)


def test_questions_feedback_and_gaps_are_recorded(records):
    log = records.activity
    answered = log.record_question("bob", "How do I book the laser?", True, 0.9, ["Booking"])
    unsure = log.record_question("anonymous:1", "Who fixes the kiln?", True, 0.5, ["Kiln"])
    unanswered = log.record_question("anonymous:2", "What is the Wi-Fi password?", False, 0.1, [])
    log.record_feedback(answered, 1, "", "bob")
    log.record_feedback(answered, -1, "it was the old price", "bob")  # bob changed his mind
    assert [(f.rating, f.comment) for f in log.feedback()] == [(-1, "it was the old price")]
    gaps = {q.id: q.reason for q in log.gaps(low_confidence=0.6)}
    assert gaps == {answered: "rated unhelpful", unsure: "low confidence", unanswered: "unanswered"}
    with pytest.raises(ValueError):
        log.record_feedback(answered, 0, "", "bob")


def test_gaps_are_grouped_by_topic_and_exported_as_cases(records, embedder):
    log = records.activity
    for question in ("What is the Wi-Fi password?", "wifi password please",
                     "How do I get on the wireless network?", "Do you teach welding?",
                     "Is there a welding course?", "What is the Wi-Fi password?"):  # fmt: skip
        log.record_question("anonymous:1", question, False, 0.1, [])
    gaps = knowledge_gaps(log.gaps(low_confidence=0.6), embedder)
    sizes = sorted(gap.count for gap in gaps)
    assert sum(sizes) == 6 and max(sizes) >= 3 and len(gaps) >= 2
    welding = next(g for g in gaps if "weld" in g.topic.lower())
    assert all("weld" in q.question.lower() for q in welding.questions)
    cases = as_cases(gaps)
    assert len(cases) == 5  # the repeated question once
    assert all(c["answerable"] is None and c["evidence"] == [] for c in cases)
    json.dumps(cases)


def test_asking_while_an_upload_is_ingested_and_a_source_deleted(
    settings, store, embedder, desk, library, tmp_path
):
    _upload(
        desk, tmp_path / "a", "kiln.md", "# Kiln\n\nThe ceramics kiln is fired on Thursdays.", BOB
    )
    assistant = Assistant.on_store(settings, embedder, store)
    errors: list[BaseException] = []
    deleted = threading.Event()
    cited_after_deletion: list[str] = []

    def ask_repeatedly() -> None:
        try:
            for _ in range(6):
                gone = deleted.is_set()
                answer = assistant.ask("Which day is the ceramics kiln fired?", where=AS_MEMBER)
                if gone:
                    cited_after_deletion.extend(c.chunk.path for c in answer.citations)
        except BaseException as exc:
            errors.append(exc)

    def upload_many() -> None:
        try:
            files = {f"note-{i}.md": f"# Note {i}\n\nShelf {i} holds the spare parts of machine {i}."
                     for i in range(12)}  # fmt: skip
            folder = write_files(tmp_path / "many", files)
            desk.receive([Upload(folder / n, n) for n in files], "cleo")
        except BaseException as exc:
            errors.append(exc)

    def delete_kiln() -> None:
        try:
            [kiln] = library.shelves(MAINTAINER, search="kiln")
            library.delete(kiln.source_id, BOB)
            deleted.set()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask_repeatedly) for _ in range(3)]
    threads += [threading.Thread(target=upload_many), threading.Thread(target=delete_kiln)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert not any(path.endswith("kiln.md") for path in cited_after_deletion)
    assert len(library.shelves(MAINTAINER)) == 12
    assert store.vector_ids() == store.chunk_ids()
