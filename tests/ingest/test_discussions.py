"""Discussion exports through the whole pipeline: threads, members, links, forgetting, growth."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from copqa.community.members import MemberDirectory
from ingest.factory import build_pipeline
from ingest.forgetting import forget_member
from tests.support.cli import run_copqa

WORKSPACE = "https://r-contributors.slack.com"
CHANNELS = ("cran-cookbook", "outreachy", "bug-bbq")


@pytest.fixture
def slack_export(tmp_path: Path, shared_data: Path) -> Path:
    """A real slice of the R Contributors export: its members and three whole channels."""
    source = shared_data / "r-contributors/slack"
    export = tmp_path / "slack"
    export.mkdir()
    for name in ("users.json", "channels.json"):
        shutil.copy(source / name, export / name)
    for channel in CHANNELS:
        shutil.copytree(source / channel, export / channel)
    return export


@pytest.fixture
def linked(settings):
    settings.sources.slack_workspace_url = WORKSPACE
    return settings


@pytest.fixture
def linked_pipeline(linked, store, embedder):
    return build_pipeline(linked, store, embedder)


def all_chunk_text(store) -> str:
    return "\n".join(c.text for b in store.iter_chunks() for c in b)


def test_citations_name_the_member_channel_date_and_post(
    linked_pipeline, store, embedder, slack_export: Path
) -> None:
    report = linked_pipeline.ingest([slack_export])
    assert report.failed == [] and report.added > 10
    (top,) = store.search(embedder.embed_query("CRAN cookbook project idea for useRs"), 1)
    chunk = top.chunk
    assert chunk.kind == "slack" and chunk.channel == "#cran-cookbook"
    assert chunk.thread_id == chunk.document_id and chunk.created_at
    assert chunk.posts and all(
        p.author_name and not p.author_name.startswith("U0") for p in chunk.posts
    )
    assert all(p.url.startswith(f"{WORKSPACE}/archives/") for p in chunk.posts)
    assert {p.id for p in chunk.posts} == set(chunk.post_ids)


def test_reingest_and_zip_add_nothing(linked_pipeline, slack_export: Path, tmp_path: Path) -> None:
    first = linked_pipeline.ingest([slack_export])
    again = linked_pipeline.ingest([slack_export])
    assert (again.added, again.updated, again.unchanged) == (0, 0, first.added)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(slack_export.rglob("*.json")):
            zipped.write(path, path.relative_to(slack_export.parent).as_posix())
    zipped_report = linked_pipeline.ingest([archive])
    # Same threads, same ids: the zip's threads update nothing, they are the ones stored.
    assert (zipped_report.added, zipped_report.failed) == (first.added, [])
    assert zipped_report.chunks == first.chunks


def test_grown_export_adds_only_what_is_new(linked_pipeline, store, slack_export: Path) -> None:
    day = max(
        (d for d in slack_export.glob("*/*.json") if _has_real_message(d)), key=lambda d: d.name
    )
    held_back = slack_export.parent / day.name
    shutil.move(day, held_back)
    first = linked_pipeline.ingest([slack_export])
    shutil.move(held_back, day)
    grown = linked_pipeline.ingest([slack_export])
    assert grown.added + grown.updated >= 1
    assert grown.unchanged == first.added + first.updated - grown.updated
    assert store.vector_ids() == store.chunk_ids()


def _has_real_message(day: Path) -> bool:
    return any(
        not m.get("subtype") and len(m.get("text", "").split()) > 3
        for m in json.loads(day.read_text())
    )


def test_edited_message_replaces_its_text(linked_pipeline, store, slack_export: Path) -> None:
    linked_pipeline.ingest([slack_export])
    day = sorted((slack_export / "cran-cookbook").glob("*.json"))[0]
    messages = json.loads(day.read_text())
    edited = next(m for m in messages if len(m.get("text", "").split()) > 5)
    old_text = edited["text"]
    edited["text"] = "Edited: the cookbook meeting moved to the second Tuesday of the month."
    day.write_text(json.dumps(messages))
    report = linked_pipeline.ingest([slack_export])
    assert report.updated == 1 and report.added == 0
    text = all_chunk_text(store)
    assert "cookbook meeting moved to the second Tuesday" in text
    assert old_text.split()[3] not in text or old_text not in text


def test_forgotten_member_leaves_no_text_and_stays_out(
    linked, linked_pipeline, store, slack_export: Path
) -> None:
    linked_pipeline.ingest([slack_export])
    directory = MemberDirectory(store.members(), {})
    member = next(m for m in directory.members() if m.name == "Jasmine Daly")
    assert member.posts == 4 and member.channels == ("#cran-cookbook",)
    their_posts = [
        store.stored_document(d)[1] for d in store._catalog.documents_by_authors({"Jasmine Daly"})
    ]
    texts = [p.text for doc in their_posts for p in doc.posts if p.author_name == "Jasmine Daly"]
    assert len(texts) == 4

    report = forget_member(store, linked_pipeline, directory.identities("Jasmine Daly"))
    assert report.posts_removed == 4
    chunks = all_chunk_text(store)
    assert not any(text[:60] in chunks for text in texts)
    assert "Jasmine Daly" not in {m.name for m in MemberDirectory(store.members(), {}).members()}

    again = linked_pipeline.ingest([slack_export])
    assert (again.added, again.updated) == (0, 0)
    assert not any(text[:60] in all_chunk_text(store) for text in texts)
    assert store.vector_ids() == store.chunk_ids()


def test_alias_map_merges_one_person(linked_pipeline, store, slack_export: Path) -> None:
    linked_pipeline.ingest([slack_export])
    records = store.members()
    heather = next(r for r in records if r.name.startswith("Heather Turner"))
    merged = MemberDirectory(
        records, {"Heather Turner": [f"slack:{heather.author_id}", "hturner@example.org"]}
    )
    names = [m.name for m in merged.members()]
    assert "Heather Turner" in names and heather.name not in names


def test_cli_members_and_forget(tmp_path: Path, slack_export: Path) -> None:
    home = tmp_path / "cli-home"
    assert run_copqa(home, "ingest", str(slack_export)).returncode == 0
    listing = json.loads(run_copqa(home, "members", "--json").stdout)
    assert any(m["name"] == "Jasmine Daly" and m["posts"] == 4 for m in listing)
    forgot = json.loads(run_copqa(home, "members", "forget", "Jasmine Daly", "--json").stdout)
    assert forgot["posts_removed"] == 4
    listing = json.loads(run_copqa(home, "members", "--json").stdout)
    assert all(m["name"] != "Jasmine Daly" for m in listing)


def test_zip_slip_is_refused_and_nothing_escapes(pipeline, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("channels.json", "[]")
        zipped.writestr("users.json", "[]")
        zipped.writestr("../../escaped.json", "[]")
        zipped.writestr(
            "general/2024-01-01.json",
            json.dumps(
                [
                    {
                        "type": "message",
                        "user": "U1",
                        "text": "hello there all of you",
                        "ts": "1704100000.000100",
                    }
                ]
            ),
        )
    report = pipeline.ingest([archive])
    # An archive that tries to escape is refused whole, naming the offending member.
    assert [
        (f.path, "'../../escaped.json' points outside the archive" in f.error)
        for f in report.failed
    ] == [(str(archive), True)]
    assert report.added == 0
    assert not (tmp_path.parent / "escaped.json").exists()
    assert not list(tmp_path.rglob("escaped.json"))
