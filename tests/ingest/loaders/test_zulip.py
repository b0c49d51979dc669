"""ZulipArchiveLoader on the NCAR ESDS zulip-archive, and on small broken archives."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from copqa.models import Document, LoadFailure
from ingest.loaders.discussions.zulip import ZulipArchiveLoader
from tests.support.private_exports import ZULIP_MEMBERS, private_zulip_export

SITE = "https://zulip2.cloud.ucar.edu"
PLOTTING_TOPIC = f"{SITE}/#narrow/stream/10-python-questions/topic/3D.20plotting"


@pytest.fixture(scope="module")
def archive(shared_data: Path) -> Path:
    return shared_data / "zulip-ncar-esds"


@pytest.fixture(scope="module")
def loaded(archive: Path) -> list[Document | LoadFailure]:
    return list(ZulipArchiveLoader().load(archive))


@pytest.fixture(scope="module")
def threads(loaded: list[Document | LoadFailure]) -> dict[tuple[str, str], Document]:
    return {(d.channel, d.title): d for d in loaded if isinstance(d, Document)}


def test_every_topic_is_one_thread(loaded: list[Document | LoadFailure]) -> None:
    documents = [d for d in loaded if isinstance(d, Document)]
    assert [d for d in loaded if isinstance(d, LoadFailure)] == []
    # stream_index.json lists 831 topics and 6,707 messages; the data README's 809 / 6,555
    # leaves out the 22 topic files whose names start with "." (e.g. resolved "✔ " topics).
    assert len(documents) == 831
    assert len({d.id for d in documents}) == 831
    # One message, a lone `<code> </code>`, has no text.
    assert sum(len(d.posts) for d in documents) == 6706
    assert len({p.author_name for d in documents for p in d.posts}) == 170
    assert len({d.channel for d in documents}) == 32


def test_known_topic(threads: dict[tuple[str, str], Document]) -> None:
    thread = threads[("#python-questions", "3D plotting")]
    assert thread.kind == "zulip"
    assert thread.url == PLOTTING_TOPIC
    assert thread.author == "John Clyne"
    assert thread.created_at == 1635529857
    assert thread.path.endswith("zulip_json/10-python-questions/3D.20plotting.json")
    assert [p.author_name for p in thread.posts] == ["John Clyne", "Maria Molina", "John Clyne"]
    first = thread.posts[0]
    assert first.url == f"{PLOTTING_TOPIC}/near/45997"
    assert first.author_id == "John Clyne"  # the archive's JSON carries no sender ids
    assert first.text.startswith("Hi All,")
    assert "CISL's VAPOR team is developing a Python API" in first.text
    assert "(www.vapor.ucar.edu). VAPOR provides interactive 3D rendering" in first.text


def test_names_are_decoded_and_links_encoded_as_zulip_does(
    threads: dict[tuple[str, str], Document],
) -> None:
    resolved = threads[("#python-questions", "✔ pywinter")]
    assert resolved.url == f"{SITE}/#narrow/stream/10-python-questions/topic/.E2.9C.94.20pywinter"
    assert len(resolved.posts) == 5
    assert ("#python-questions", "/dev/null with PBS") in threads
    odd_stream = threads[("#0.1° JRA BGC Run", "003 or 004")]
    assert (
        odd_stream.url == f"{SITE}/#narrow/stream/20-0.2E1.C2.B0-JRA-BGC-Run/topic/003.20or.20004"
    )


def test_posts_are_chronological_plain_text(loaded: list[Document | LoadFailure]) -> None:
    documents = [d for d in loaded if isinstance(d, Document)]
    for thread in documents:
        times = [p.created_at for p in thread.posts]
        assert None not in times
        assert times == sorted(times), thread.title  # type: ignore[type-var]
        assert thread.created_at == times[0]
    texts = [p.text for d in documents for p in d.posts]
    assert all(t.strip() for t in texts)
    assert not any("<p>" in t or "</a>" in t or "user-mention" in t for t in texts)


def test_ids_are_stable_and_independent_of_the_entry_folder(
    archive: Path, loaded: list[Document | LoadFailure]
) -> None:
    again = list(ZulipArchiveLoader().load(archive / "zulip_json"))
    assert [d.id for d in again if isinstance(d, Document)] == [
        d.id for d in loaded if isinstance(d, Document)
    ]
    post_ids = [p.id for d in loaded if isinstance(d, Document) for p in d.posts]
    assert post_ids == [p.id for d in again if isinstance(d, Document) for p in d.posts]
    assert len(set(post_ids)) == len(post_ids)


def test_site_url_parameter_overrides_the_archive(archive: Path) -> None:
    loader = ZulipArchiveLoader(site_url="https://esds.zulipchat.com/")
    thread = next(d for d in loader.load(archive) if isinstance(d, Document))
    assert thread.url.startswith("https://esds.zulipchat.com/#narrow/stream/20-")
    assert thread.posts[0].url.startswith(thread.url + "/near/")


def test_detect(archive: Path, shared_data: Path, tmp_path: Path) -> None:
    loader = ZulipArchiveLoader()
    assert loader.detect(archive)
    assert loader.detect(archive / "zulip_json")
    assert not loader.detect(archive / "zulip_json" / "10-python-questions")
    assert not loader.detect(shared_data / "discourse-api-samples")
    assert not loader.detect(tmp_path / "missing")


def _write_archive(root: Path, topics: dict[str, str]) -> Path:
    """A one-stream archive; `topics` maps topic file names to their raw contents."""
    json_dir = root / "zulip_json"
    (json_dir / "7-help").mkdir(parents=True)
    index = {"streams": {"help": {"id": 7, "topic_data": {"good": {}, "broken": {}, "gone": {}}}}}
    (json_dir / "stream_index.json").write_text(json.dumps(index))
    for name, content in topics.items():
        (json_dir / "7-help" / name).write_text(content)
    return root


def test_bad_topic_files_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    message = {"id": 1, "sender_full_name": "Ada", "timestamp": 1700000000, "content": "<p>Hi</p>"}
    root = _write_archive(
        tmp_path, {"good.json": json.dumps([message]), "broken.json": '[{"id": 2,'}
    )
    results = list(ZulipArchiveLoader().load(root))
    documents = [r for r in results if isinstance(r, Document)]
    failures = [r for r in results if isinstance(r, LoadFailure)]
    assert [(d.title, d.channel, d.url) for d in documents] == [("good", "#help", "")]
    assert documents[0].posts[0].text == "Hi"
    assert documents[0].posts[0].url == ""  # no site known: no links
    assert failures[0].path == str(root / "zulip_json" / "7-help" / "broken.json")
    assert failures[0].error.startswith("malformed JSON")
    assert failures[1].path == str(root / "zulip_json" / "7-help")
    assert "'gone' is listed in stream_index.json but has no file" in failures[1].error
    assert len(failures) == 2


def test_malformed_index_is_reported(tmp_path: Path) -> None:
    (tmp_path / "stream_index.json").write_bytes(b'{"streams": \xff')
    assert ZulipArchiveLoader().detect(tmp_path)
    results = list(ZulipArchiveLoader().load(tmp_path))
    assert results == [LoadFailure(str(tmp_path / "stream_index.json"), "not UTF-8 text (byte 12)")]


def test_a_quote_reply_keeps_the_quoted_words_marked_as_a_quote(
    threads: dict[tuple[str, str], Document],
) -> None:
    # Anderson Banihirwe quotes the question put to him, then answers it: the quoted words
    # are the asker's. They stay for search, as `> ` lines, apart from his own.
    thread = threads[("#jupyterlab-hub", "Casper dask dashboard errors")]
    reply = next(p for p in thread.posts if p.url.endswith("/near/9409"))
    assert reply.author_name == "Anderson Banihirwe"
    quoted, own = reply.text.split("\n", 1)
    assert quoted.startswith("> @Anderson Banihirwe any idea what's going on here?")
    assert own.lstrip().startswith("There were some issues with distributed 2.15.0 and 2.15.1.")
    assert "any idea what's going on here" not in own


def test_quotes_nested_twenty_thousand_deep_read_in_one_walk() -> None:
    from ingest.loaders.discussions.zulip import QUOTE_REPLY
    from ingest.loaders.documents.html import html_to_text

    depth = 20_000
    hostile = "<blockquote>" * depth + "<p>bottom</p>" + "</blockquote>" * depth + "<p>mine</p>"
    started = time.monotonic()
    text = html_to_text(hostile, QUOTE_REPLY)
    assert time.monotonic() - started < 10
    assert text == "> bottom\n\nmine"


def test_the_real_archive_says_nothing_of_privacy(
    archive: Path, loaded: list[Document | LoadFailure]
) -> None:
    # zulip-archive archives public streams; its index has no `invite_only`, no subscribers.
    index = json.loads((archive / "zulip_json" / "stream_index.json").read_text())
    assert {key for stream in index["streams"].values() for key in stream} == {
        "id",
        "latest_id",
        "topic_data",
    }
    documents = [d for d in loaded if isinstance(d, Document)]
    assert {(d.access, d.readers) for d in documents} == {("", ())}


def _marbl_docs(root: Path) -> tuple[list[Document], list[Document]]:
    """The #MARBL threads of an archive, and the others; no load failures."""
    results = list(ZulipArchiveLoader().load(root))
    assert [r for r in results if isinstance(r, LoadFailure)] == []
    documents = [d for d in results if isinstance(d, Document)]
    return [d for d in documents if d.channel == "#MARBL"], [
        d for d in documents if d.channel != "#MARBL"
    ]


def _edit_marbl(root: Path, **fields: object) -> None:
    """Set (or, given None, remove) fields of #MARBL's stream_index.json entry."""
    path = root / "zulip_json" / "stream_index.json"
    index = json.loads(path.read_text())
    stream = index["streams"]["MARBL"]
    for key, value in fields.items():
        if value is None:
            del stream[key]
        else:
            stream[key] = value
    path.write_text(json.dumps(index))


def test_an_invite_only_stream_is_read_by_its_subscribers_only(
    shared_data: Path, tmp_path: Path
) -> None:
    export = private_zulip_export(shared_data, tmp_path / "archive")
    private, public = _marbl_docs(export.folder)
    assert len(private) == 7
    # Named from the stream's own mentions: the archive's JSON has no sender ids.
    assert {(d.access, d.readers) for d in private} == {("group:#MARBL", ZULIP_MEMBERS)}
    thread = next(d for d in private if d.title == export.thread)
    assert export.question in thread.posts[0].text
    assert {d.channel for d in public} == {"#ocean-cdr", "#solar-forcing"}
    assert len(public) == 8
    assert {(d.access, d.readers) for d in public} == {("", ())}
    # A subscriber the stream never names keeps their id as name; one listed twice is one.
    _edit_marbl(export.folder, subscribers=[10, 14, 28, 31, 184, 999, 10])
    private, _ = _marbl_docs(export.folder)
    assert {d.readers for d in private} == {(*ZULIP_MEMBERS, ("999", "999"))}


@pytest.mark.parametrize("subscribers", [None, [], "10 14", [True, "14", 2.5, None]])
def test_an_invite_only_stream_without_a_subscriber_list_is_for_maintainers(
    shared_data: Path, tmp_path: Path, subscribers: object
) -> None:
    export = private_zulip_export(shared_data, tmp_path / "archive")
    _edit_marbl(export.folder, subscribers=subscribers)
    private, public = _marbl_docs(export.folder)
    assert {(d.access, d.readers) for d in private} == {("maintainers", ())}
    assert {d.access for d in public} == {""}


@pytest.mark.parametrize(("invite_only", "access"), [(False, ""), ("yes", "group:#MARBL")])
def test_only_an_invite_only_of_false_leaves_a_stream_open(
    shared_data: Path, tmp_path: Path, invite_only: object, access: str
) -> None:
    export = private_zulip_export(shared_data, tmp_path / "archive")
    _edit_marbl(export.folder, invite_only=invite_only)
    private, _ = _marbl_docs(export.folder)
    assert {d.access for d in private} == {access}


def test_subscribers_are_named_by_their_own_messages_first(tmp_path: Path) -> None:
    """With `sender_id` (Zulip's API has it, zulip-archive drops it), a sender is named as
    they post, over an older name another member's mention of them carries."""
    mention = '<p><span class="user-mention" data-user-id="8">@Bob (old name)</span> hi</p>'
    messages = [
        {"id": 1, "sender_id": 7, "sender_full_name": "Ada", "timestamp": 1, "content": mention},
        {
            "id": 2,
            "sender_id": 8,
            "sender_full_name": "Bob",
            "timestamp": 2,
            "content": "<p>yo</p>",
        },
    ]
    root = _write_archive(tmp_path, {"good.json": json.dumps(messages)})
    path = root / "zulip_json" / "stream_index.json"
    index = json.loads(path.read_text())
    index["streams"]["help"] |= {
        "invite_only": True,
        "subscribers": [8, 7],
        "topic_data": {"good": {}},
    }
    path.write_text(json.dumps(index))
    (document,) = ZulipArchiveLoader().load(root)
    assert isinstance(document, Document)
    assert (document.access, document.readers) == ("group:#help", (("8", "Bob"), ("7", "Ada")))
    assert [p.author_id for p in document.posts] == ["7", "8"]
