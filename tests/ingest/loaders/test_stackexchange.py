"""StackExchangeDumpLoader on the bicycles.meta dump, and on small broken dumps."""

from __future__ import annotations

from pathlib import Path

import pytest

from copqa.models import Document, LoadFailure
from ingest.loaders.discussions.stackexchange import StackExchangeDumpLoader

SITE = "https://bicycles.meta.stackexchange.com"


@pytest.fixture(scope="module")
def dump(shared_data: Path) -> Path:
    return shared_data / "stackexchange-bicycles-meta"


@pytest.fixture(scope="module")
def threads(dump: Path) -> dict[str, Document]:
    results = list(StackExchangeDumpLoader().load(dump))
    assert [r for r in results if isinstance(r, LoadFailure)] == []
    return {d.url: d for d in results if isinstance(d, Document)}


def test_every_question_is_one_thread(threads: dict[str, Document]) -> None:
    assert len(threads) == 453
    posts = [p for d in threads.values() for p in d.posts]
    questions = [p for p in posts if "/q/" in p.url]
    answers = [p for p in posts if "/a/" in p.url]
    comments = [p for p in posts if "#comment" in p.url]
    # 971 answers, less answer 1199: a bounty banner, an image and nothing else.
    assert (len(questions), len(answers), len(comments)) == (453, 970, 2448)
    assert sum(p.accepted for p in posts) == 157
    assert all(p.accepted for p in posts if p.accepted) and not any(p.accepted for p in questions)
    assert f"{SITE}/a/1199" not in {p.url for p in answers}
    assert {d.channel for d in threads.values()} == {"bicycles.meta.stackexchange.com"}


def test_known_thread_order_and_urls(threads: dict[str, Document]) -> None:
    thread = threads[f"{SITE}/q/99"]
    assert thread.title == "On or off topic: Medical advice"
    assert thread.author == "Goodbye Stack Exchange"
    # Question, its comment; accepted answer 101 (score 12) with its comment; then by score,
    # 100 before 182 (both 3) because it is older; each answer followed by its comments.
    assert [p.url.removeprefix(SITE) for p in thread.posts[:8]] == [
        "/q/99",
        "/questions/99#comment612_99",
        "/a/101",
        "/questions/99#comment138_101",
        "/a/178",
        "/a/100",
        "/questions/99#comment139_100",
        "/a/182",
    ]
    accepted = thread.posts[2]
    assert (accepted.author_name, accepted.author_id, accepted.score) == ("darkcanuck", "157", 12)
    assert accepted.accepted
    assert accepted.reply_to == thread.posts[0].id
    assert thread.posts[3].reply_to == accepted.id
    assert thread.posts[1].author_name == "Tom77"
    assert thread.posts[1].text.startswith("There's a similar question in the [Fitness and Nut")


def test_deleted_users_keep_their_display_name(threads: dict[str, Document]) -> None:
    thread = threads[f"{SITE}/q/121"]
    assert thread.title == "Publicist badge"
    question, accepted, other, *comments = thread.posts
    assert (question.author_name, question.author_id) == ("user313", "user313")
    assert (accepted.url, accepted.author_name, accepted.accepted) == (
        f"{SITE}/a/122",
        "freiheit",
        True,
    )
    assert (other.author_name, other.accepted) == ("Jeff Atwood", False)
    assert comments == []
    assert question.created_at == thread.created_at == 1285363889


def test_html_is_removed(threads: dict[str, Document]) -> None:
    first = threads[f"{SITE}/q/1"].posts[0]
    assert first.text.startswith("Possible Duplicate:")
    assert (
        "Domain Names: Wrong Question (Domain Names: Wrong Question: http://blog.stackoverflow.com/"
        in first.text
    )
    texts = [p.text for d in threads.values() for p in d.posts]
    assert not any("<p>" in t or "&lt;" in t or "</a>" in t for t in texts)


def test_ids_are_stable_across_loads(dump: Path, threads: dict[str, Document]) -> None:
    again = [d for d in StackExchangeDumpLoader().load(dump) if isinstance(d, Document)]
    assert [d.id for d in again] == [d.id for d in threads.values()]
    post_ids = [p.id for d in again for p in d.posts]
    assert post_ids == [p.id for d in threads.values() for p in d.posts]
    # Comment ids and post ids are separate sequences: they must not collide.
    assert len(set(post_ids)) == len(post_ids) == 3871


def test_site_url_parameter(dump: Path) -> None:
    loader = StackExchangeDumpLoader(site_url="https://bikes.example/")
    thread = next(d for d in loader.load(dump) if isinstance(d, Document))
    assert thread.url == "https://bikes.example/q/1"
    assert thread.channel == "bikes.example"


def test_detect(dump: Path, shared_data: Path, tmp_path: Path) -> None:
    loader = StackExchangeDumpLoader()
    assert loader.detect(dump)
    assert not loader.detect(dump / "Posts.xml")
    assert not loader.detect(shared_data / "discourse-api-samples")
    assert not loader.detect(tmp_path / "missing")


HEADER = '<?xml version="1.0" encoding="utf-8"?>\n'
QUESTION = (
    '<row Id="1" PostTypeId="1" AcceptedAnswerId="2" CreationDate="2024-01-01T10:00:00.000"'
    ' Score="3" Title="Chain skips" Body="&lt;p&gt;My chain skips.&lt;/p&gt;"'
    ' OwnerUserId="7" />'
)
ANSWER = (
    '<row Id="2" PostTypeId="2" ParentId="1" CreationDate="2024-01-02T10:00:00.000" Score="5"'
    ' Body="&lt;p&gt;Replace the cassette.&lt;/p&gt;" OwnerDisplayName="Old Rider" />'
)
COMMENT = (
    '<row Id="2" PostId="1" Score="1" Text="Which gear?" CreationDate="2024-01-01T11:00:00.000"'
    ' UserDisplayName="Gone User" />'
)


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(HEADER + body)
    return folder / name


def test_malformed_comments_are_reported_and_posts_still_load(tmp_path: Path) -> None:
    _write(tmp_path, "Posts.xml", f"<posts>{QUESTION}{ANSWER}</posts>")
    comments = _write(tmp_path, "Comments.xml", f"<comments>{COMMENT}<row Id=")
    _write(tmp_path, "Users.xml", '<users><row Id="7" DisplayName="Ada" /></users>')
    results = list(StackExchangeDumpLoader().load(tmp_path))
    failure, thread = results
    assert isinstance(failure, LoadFailure) and isinstance(thread, Document)
    assert failure.path == str(comments)
    assert failure.error.startswith("malformed XML (")
    # The comment before the break is kept; the answer shares id 2 with it, yet both stay.
    assert [(p.author_name, p.text) for p in thread.posts] == [
        ("Ada", "My chain skips."),
        ("Gone User", "Which gear?"),
        ("Old Rider", "Replace the cassette."),
    ]
    assert [p.accepted for p in thread.posts] == [False, False, True]
    assert [p.url for p in thread.posts] == ["", "", ""]  # no site named anywhere
    assert (thread.title, thread.created_at) == ("Chain skips", 1704103200)


def test_truncated_posts_keep_the_rows_before_the_break(tmp_path: Path) -> None:
    posts = _write(tmp_path, "Posts.xml", f"<posts>{QUESTION}{ANSWER}<row Id=")
    results = list(StackExchangeDumpLoader().load(tmp_path))
    assert isinstance(results[0], LoadFailure)
    assert results[0].path == str(posts)
    # Users.xml is missing and user 7 is named nowhere else.
    assert results[2] == LoadFailure(
        str(tmp_path / "Users.xml"),
        "missing: 1 author(s) could not be named and are shown as user<id>",
    )
    thread = results[1]
    assert isinstance(thread, Document)
    assert [p.author_name for p in thread.posts] == ["user7", "Old Rider"]


def test_missing_posts_file_is_reported(tmp_path: Path) -> None:
    assert list(StackExchangeDumpLoader().load(tmp_path)) == [
        LoadFailure(str(tmp_path / "Posts.xml"), "missing: a Stack Exchange dump needs Posts.xml")
    ]
