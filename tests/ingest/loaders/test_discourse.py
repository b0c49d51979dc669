"""DiscourseLoader on the real Discourse API samples, and on small synthetic responses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from copqa.models import Document, LoadFailure
from ingest.loaders.discussions.discourse import DiscourseLoader
from tests.support.private_exports import DISCOURSE_MEMBERS, private_discourse_export

SANDBOX = "THIS SITE IS A SANDBOX -- it is reset every day"
SANDBOX_URL = "https://try.discourse.org/t/this-site-is-a-sandbox-it-is-reset-every-day/57"


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> Path:
    return shared_data / "discourse-api-samples"


@pytest.fixture(scope="module")
def threads(samples: Path) -> dict[str, Document]:
    results = list(DiscourseLoader().load(samples))
    assert [r for r in results if isinstance(r, LoadFailure)] == []
    return {d.title: d for d in results if isinstance(d, Document)}


def test_only_full_posts_become_threads(threads: dict[str, Document]) -> None:
    # Topics 57 (topic.json + topic_posts.json), 11, 7 and 2 (posts_latest.json) and 8
    # (post.json). Topic lists, search results and user actions hold only excerpts.
    assert sorted(threads) == [
        "About the Site Feedback category",
        SANDBOX,
        "The first paragraph of this pinned topic will be visible as a welcome message…",
        "This is an uncategorized title",
        "Welcome to Discourse",
    ]
    assert sum(len(d.posts) for d in threads.values()) == 8
    assert {d.kind for d in threads.values()} == {"discourse"}


def test_topic_pages_merge_and_notices_are_left_out(threads: dict[str, Document]) -> None:
    thread = threads[SANDBOX]
    # Post 84 ("This topic is now pinned", a moderator action) and post 86 (an image
    # alone) carry no knowledge; post 123456 comes from the second page, topic_posts.json.
    assert [p.author_name for p in thread.posts] == [
        "Sam Saffron",
        "Stefan Plattner",
        "Someones Name",
    ]
    assert [p.author_id for p in thread.posts] == ["15", "50", "123"]
    assert thread.author == "Sam Saffron"
    assert thread.path.endswith("discourse-api-samples/topic.json")
    assert thread.url == ""  # no site address in these responses
    assert all(p.url == "" for p in thread.posts)
    times = [p.created_at for p in thread.posts]
    assert times == [1360009586, 1360084457, 1580124723]
    assert thread.created_at == 1360009586
    welcome, reply, _ = thread.posts
    assert reply.reply_to == welcome.id
    assert reply.score == 5  # likes
    assert welcome.text.startswith("Welcome!")
    assert "please flag it" in welcome.text
    assert not any("<p>" in p.text or "<strong>" in p.text for p in thread.posts)


def test_urls_from_the_site_url_parameter(samples: Path) -> None:
    loader = DiscourseLoader(site_url="https://try.discourse.org/")
    (thread,) = [d for d in loader.load(samples / "topic.json") if isinstance(d, Document)]
    assert thread.url == SANDBOX_URL
    assert [p.url for p in thread.posts] == [f"{SANDBOX_URL}/1", f"{SANDBOX_URL}/14"]


def test_author_falls_back_to_username_and_system_is_a_bot(threads: dict[str, Document]) -> None:
    untitled = threads["This is an uncategorized title"]
    assert [p.author_name for p in untitled.posts] == ["johndoe", "johndoe"]
    assert [p.text for p in untitled.posts] == ["hi there. hi there. hi there.", "holla bullhonky."]
    welcome = threads["Welcome to Discourse"].posts[0]
    assert (welcome.author_name, welcome.is_bot) == ("system", True)
    assert not untitled.posts[0].is_bot


def test_ids_are_stable_across_loads(samples: Path, threads: dict[str, Document]) -> None:
    again = {d.title: d for d in DiscourseLoader().load(samples) if isinstance(d, Document)}
    assert {t: d.id for t, d in again.items()} == {t: d.id for t, d in threads.items()}
    assert [p.id for p in again[SANDBOX].posts] == [p.id for p in threads[SANDBOX].posts]
    all_ids = [d.id for d in threads.values()] + [p.id for d in threads.values() for p in d.posts]
    assert len(set(all_ids)) == len(all_ids)  # topic 2 and post 2 do not collide


def test_a_post_seen_twice_is_one_post(samples: Path, tmp_path: Path) -> None:
    topic = (samples / "topic.json").read_bytes()
    (tmp_path / "a.json").write_bytes(topic)
    (tmp_path / "b.json").write_bytes(topic)
    (thread,) = list(DiscourseLoader().load(tmp_path))
    assert isinstance(thread, Document)
    assert [p.author_name for p in thread.posts] == ["Sam Saffron", "Stefan Plattner"]
    assert thread.path == str(tmp_path / "a.json")


def _topic(posts: list[dict[str, Any]], **fields: Any) -> str:
    return json.dumps(
        {
            "id": 9,
            "title": "Pandas help",
            "slug": "pandas-help",
            **fields,
            "post_stream": {"posts": posts},
        }
    )


def _post(post_id: int, number: int, cooked: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "topic_id": 9,
        "post_number": number,
        "post_type": 1,
        "user_id": post_id,
        "username": f"u{post_id}",
        "name": "",
        "created_at": f"2024-05-0{number}T10:00:00.000Z",
        "cooked": cooked,
        **fields,
    }


def test_accepted_answer_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(
        _topic(
            [
                _post(1, 1, "<p>How do I read CSV?</p>"),
                _post(2, 2, "<p>Try <code>read_excel</code></p>"),
                _post(3, 3, "<p>Use <code>pd.read_csv</code></p>", accepted_answer=True),
            ]
        )
    )
    (thread,) = list(DiscourseLoader().load(tmp_path / "t.json"))
    assert isinstance(thread, Document)
    assert [p.accepted for p in thread.posts] == [False, False, True]
    assert "pd.read_csv" in thread.posts[2].text
    assert "<code>" not in thread.posts[2].text


def test_topic_level_accepted_answer_and_internal_links_give_site(tmp_path: Path) -> None:
    link = {"url": "https://forum.example.org/t/other/3", "internal": True}
    topic = _topic(
        [_post(1, 1, "<p>Question</p>", link_counts=[link]), _post(2, 2, "<p>Answer</p>")],
        accepted_answer={"post_number": 2, "username": "u2"},
    )
    (tmp_path / "t.json").write_text(topic)
    (thread,) = list(DiscourseLoader().load(tmp_path))
    assert isinstance(thread, Document)
    assert [p.accepted for p in thread.posts] == [False, True]
    assert thread.url == "https://forum.example.org/t/pandas-help/9"
    assert thread.posts[1].url == "https://forum.example.org/t/pandas-help/9/2"
    assert [p.author_name for p in thread.posts] == ["u1", "u2"]


def test_malformed_file_is_reported_and_the_rest_loads(samples: Path, tmp_path: Path) -> None:
    (tmp_path / "a_topic.json").write_bytes((samples / "topic.json").read_bytes())
    (tmp_path / "b_broken.json").write_text('{"post_stream": {"posts": [')
    (tmp_path / "c_latin1.json").write_bytes('{"title": "café"}'.encode("latin-1"))
    results = list(DiscourseLoader().load(tmp_path))
    failures = [r for r in results if isinstance(r, LoadFailure)]
    assert [f.path for f in failures] == [
        str(tmp_path / "b_broken.json"),
        str(tmp_path / "c_latin1.json"),
    ]
    assert failures[0].error.startswith("malformed JSON")
    assert failures[1].error.startswith("not UTF-8")
    assert [d.title for d in results if isinstance(d, Document)] == [SANDBOX]


def test_detect(samples: Path, shared_data: Path, tmp_path: Path) -> None:
    loader = DiscourseLoader()
    assert loader.detect(samples)
    assert loader.detect(samples / "topic.json")
    assert loader.detect(samples / "latest.json")
    assert not loader.detect(samples / "search.json")
    assert not loader.detect(shared_data / "zulip-ncar-esds" / "zulip_json" / "stream_index.json")
    assert not loader.detect(shared_data / "stackexchange-bicycles-meta")
    assert not loader.detect(tmp_path / "missing.json")


def test_a_quoted_post_is_marked_as_a_quote(tmp_path: Path) -> None:
    # Discourse's own markup for a quote of post 1 inside post 2 (as its `cooked` HTML has it).
    quote = (
        '<aside class="quote no-group" data-username="u1" data-post="1" data-topic="9">'
        '<div class="title"><img alt="" width="24" height="24" src="/a.png"> u1:</div>'
        "<blockquote><p>How do I read CSV?</p></blockquote></aside>"
    )
    (tmp_path / "t.json").write_text(
        _topic(
            [
                _post(1, 1, "<p>How do I read CSV?</p>"),
                _post(2, 2, f"{quote}<p>Use <code>pd.read_csv</code> for that.</p>"),
                _post(3, 3, "<blockquote><p>Errors: none</p></blockquote><p>Mine too.</p>"),
            ]
        )
    )
    (thread,) = list(DiscourseLoader().load(tmp_path / "t.json"))
    assert isinstance(thread, Document)
    # The quoted post's words stay for search, marked as a quote; its title ("u1:") goes.
    assert thread.posts[1].text == "> How do I read CSV?\n\nUse pd.read_csv for that."
    assert "> Errors" not in thread.posts[2].text  # a plain block quote is the poster's own


def test_the_real_samples_restrict_nothing(samples: Path, threads: dict[str, Document]) -> None:
    # Their one category object (13, in topic.json's suggested topics) is not read-restricted.
    suggested = json.loads((samples / "topic.json").read_text())["details"]["suggested_topics"]
    assert {(t["category"]["id"], t["category"]["read_restricted"]) for t in suggested} == {
        (13, False)
    }
    assert {(d.access, d.readers) for d in threads.values()} == {("", ())}


def _threads_by_title(folder: Path) -> dict[str, Document]:
    """The threads of a folder of responses, by title; it must load without failures."""
    results = list(DiscourseLoader().load(folder))
    assert [r for r in results if isinstance(r, LoadFailure)] == []
    return {d.title: d for d in results if isinstance(d, Document)}


def test_a_read_restricted_category_is_read_by_its_groups_members_only(
    shared_data: Path, tmp_path: Path
) -> None:
    export = private_discourse_export(shared_data, tmp_path / "responses")
    threads = _threads_by_title(export.folder)
    sandbox = threads.pop(SANDBOX)
    assert (sandbox.access, sandbox.readers) == ("group:uncategorized", DISCOURSE_MEMBERS)
    assert export.question in sandbox.posts[1].text
    assert len(threads) == 4
    assert {(d.access, d.readers) for d in threads.values()} == {("", ())}


def _without_members(folder: Path) -> None:
    (folder / "groups" / "sandbox-team" / "members.json").unlink()


def _with_a_second_group(folder: Path) -> None:
    show = folder / "c_uncategorized_13_show.json"
    response = json.loads(show.read_text())
    response["category"]["group_permissions"].append({"permission_type": 3, "group_name": "staff"})
    show.write_text(json.dumps(response))


def _without_group_permissions(folder: Path) -> None:
    (folder / "c_uncategorized_13_show.json").unlink()
    topic = json.loads((folder / "topic.json").read_text())
    for suggested in topic["details"]["suggested_topics"]:
        suggested["category"]["read_restricted"] = True  # the real copies, now restricted
    (folder / "topic.json").write_text(json.dumps(topic))


@pytest.mark.parametrize(
    "edit", [_without_members, _with_a_second_group, _without_group_permissions]
)
def test_a_read_restricted_category_whose_readers_are_not_all_known_is_for_maintainers(
    shared_data: Path, tmp_path: Path, edit: Any
) -> None:
    export = private_discourse_export(shared_data, tmp_path / "responses")
    edit(export.folder)
    threads = _threads_by_title(export.folder)
    assert (threads[SANDBOX].access, threads[SANDBOX].readers) == ("maintainers", ())
    assert {d.access for t, d in threads.items() if t != SANDBOX} == {""}


def test_an_unreadable_members_file_is_reported_and_fails_closed(
    shared_data: Path, tmp_path: Path
) -> None:
    export = private_discourse_export(shared_data, tmp_path / "responses")
    members = export.folder / "groups" / "sandbox-team" / "members.json"
    members.write_text('{"members": [')
    results = list(DiscourseLoader().load(export.folder))
    failures = [r for r in results if isinstance(r, LoadFailure)]
    assert [f.path for f in failures] == [str(members)]
    assert failures[0].error.startswith("malformed JSON")
    sandbox = next(d for d in results if isinstance(d, Document) and d.title == SANDBOX)
    assert sandbox.access == "maintainers"


def _category(**fields: Any) -> dict[str, Any]:
    permissions = [{"permission_type": 1, "group_name": "mods"}]
    return {
        "id": 4,
        "name": "Staff",
        "read_restricted": True,
        "group_permissions": permissions,
        **fields,
    }


@pytest.mark.parametrize(
    "response",
    [
        {"category": _category()},  # /c/{id}/show.json
        {"category_list": {"categories": [_category()]}},  # /categories.json
        {"categories": [_category()]},  # /site.json
        {
            "category_list": {
                "categories": [
                    _category(id=1, read_restricted=False, subcategory_list=[_category()])
                ]
            }
        },
    ],
)
def test_category_objects_are_read_wherever_discourse_puts_them(
    tmp_path: Path, response: dict[str, Any]
) -> None:
    (tmp_path / "a_category.json").write_text(json.dumps(response))
    (tmp_path / "t.json").write_text(_topic([_post(1, 1, "<p>Who is on call?</p>")], category_id=4))
    members = {
        "members": [{"id": 1, "username": "u1", "name": ""}],
        "owners": [{"id": 5, "username": "lead", "name": "Lead"}],
    }
    (tmp_path / "groups" / "mods").mkdir(parents=True)
    (tmp_path / "groups" / "mods" / "members.json").write_text(json.dumps(members))
    (thread,) = list(DiscourseLoader().load(tmp_path))
    assert isinstance(thread, Document)
    assert (thread.access, thread.readers) == ("group:Staff", (("1", "u1"), ("5", "Lead")))


def test_a_personal_message_is_for_maintainers(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(
        _topic([_post(1, 1, "<p>Between us: the key</p>")], archetype="private_message")
    )
    (thread,) = list(DiscourseLoader().load(tmp_path))
    assert isinstance(thread, Document)
    assert (thread.access, thread.readers) == ("maintainers", ())
