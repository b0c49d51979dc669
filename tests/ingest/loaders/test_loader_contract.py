"""The loader contract: what every discussion loader yields from its real export, and what
every document loader yields from a real file, so that a citation can name and link its post.

Shaped like haystack's `haystack/testing/document_store.py`, with one `Export` per format in
place of a subclass per store: where its real export is, a bounded part of it (copied into a
temporary folder, twice, so each load reads tens to hundreds of threads from two places), the
loader with the site address its links are made from, how a link names the post it opens,
and one post whose author is known from the raw export.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from copqa.models import Citation, Document, LoadFailure, Post, Quote, stable_id
from copqa.sentences import header_name, passage_sentences
from copqa.settings import Settings, SourceLinkSettings
from copqa.store.records import SourceRecord
from ingest.chunking import Chunker
from ingest.loaders.base import Loader
from ingest.loaders.discussions.discord import DiscordExportLoader
from ingest.loaders.discussions.discourse import DiscourseLoader
from ingest.loaders.discussions.mbox import MailingListLoader
from ingest.loaders.discussions.slack import SlackExportLoader
from ingest.loaders.discussions.stackexchange import StackExchangeDumpLoader
from ingest.loaders.discussions.zulip import ZulipArchiveLoader
from ingest.loaders.documents.html import HtmlLoader
from ingest.loaders.documents.markdown import MarkdownLoader
from ingest.loaders.documents.pdf import PdfLoader
from ingest.loaders.documents.text import TextLoader
from ingest.loaders.registry import all_loaders
from ingest.sources import FoundSource, SourceFinder
from tests.support.paths import REPO

SAMPLE_DOCS = REPO / "sample" / "docs"
# Plausible dates: a loader that read milliseconds, or nothing, as seconds falls outside.
EARLIEST, LATEST = 946684800, 1893456000  # 2000-01-01, 2030-01-01

SLACK = "https://r-contributors.slack.com"
SLACK_TEAM = "T01DW9DLB2A"  # the team_id of the members in users.json
ZULIP = "https://zulip2.cloud.ucar.edu"
DISCOURSE = "https://try.discourse.org"
STACKEXCHANGE = "https://bicycles.meta.stackexchange.com"
PIPERMAIL = "http://lists.projectclearwater.org/pipermail/clearwater_lists.projectclearwater.org"
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


@dataclass(frozen=True)
class KnownPost:
    """A post whose writer the raw export names, beside another member it must not be
    credited to: one its text names, or who opened its thread."""

    id: str
    author: str
    other: str
    others_words: str = ""  # what the other member wrote, which this post quoted


@dataclass(frozen=True)
class Export:
    kind: str
    loader: Callable[[], Loader]
    copy: Callable[[Path, Path], Path]  # (shared data, empty folder) -> the source to load
    link: re.Pattern[str]  # what every post's link looks like (the whole link)
    # The id of the post a link opens; None where links open a page of many posts.
    post_of_link: Callable[[re.Match[str], Path], str] | None
    known: KnownPost


def copy_files(source: Path, into: Path, names: list[str]) -> Path:
    into.mkdir(parents=True)
    for name in names:
        if (source / name).is_dir():
            shutil.copytree(source / name, into / name)
        else:
            shutil.copy2(source / name, into / name)
    return into


def slack_part(data: Path, into: Path) -> Path:
    channels = ["0_welcome", "core-dev-help", "bug-reporting"]  # all three in channels.json
    return copy_files(
        data / "r-contributors/slack", into, ["channels.json", "users.json", *channels]
    )


def zulip_part(data: Path, into: Path) -> Path:
    archive = data / "zulip-ncar-esds/zulip_json"
    streams = {20, 21}  # "0.1° JRA BGC Run" and "hack-projects": 35 topics
    index = json.loads((archive / "stream_index.json").read_text(encoding="utf-8"))
    index["streams"] = {n: s for n, s in index["streams"].items() if s["id"] in streams}
    folders = [
        f.name for f in archive.iterdir() if f.name.split("-", 1)[0] in {str(s) for s in streams}
    ]
    part = copy_files(archive, into / "zulip_json", folders)
    (part / "stream_index.json").write_text(json.dumps(index), encoding="utf-8")
    return into


def mbox_part(data: Path, into: Path) -> Path:
    months = ["2015-October.txt", "2015-November.txt", "2015-December.txt"]
    return copy_files(data / "mbox-clearwater", into, months)


def some_files(folder: str, names: list[str]) -> Callable[[Path, Path], Path]:
    return lambda data, into: copy_files(data / folder, into, names)


def all_files(folder: str, pattern: str) -> Callable[[Path, Path], Path]:
    def copy(data: Path, into: Path) -> Path:
        return copy_files(
            data / folder, into, sorted(p.name for p in (data / folder).glob(pattern))
        )

    return copy


def slack_post(link: re.Match[str], _source: Path) -> str:
    ts = f"{link['seconds']}.{link['micros']}"
    return stable_id("slack", SLACK_TEAM, link["channel"], "post", ts)


@functools.cache
def discourse_post_ids(source: Path) -> dict[tuple[int, int], int]:
    """(topic id, post number) -> post id, of the regular posts in the saved responses."""
    found: dict[tuple[int, int], int] = {}

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if {"id", "topic_id", "post_number"} <= value.keys() and value.get("post_type") == 1:
                found.setdefault((value["topic_id"], value["post_number"]), value["id"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for file in sorted(source.glob("*.json")):
        walk(json.loads(file.read_text(encoding="utf-8")))
    return found


def discourse_post(link: re.Match[str], source: Path) -> str:
    post = discourse_post_ids(source)[(int(link["topic"]), int(link["number"]))]
    return stable_id("discourse", "try.discourse.org", post)


def stackexchange_post(link: re.Match[str], _source: Path) -> str:
    site = "bicycles.meta.stackexchange.com"
    if link["comment"]:
        return stable_id("stackexchange", site, "comment", link["comment"])
    return stable_id("stackexchange", site, link["post"])


EXPORTS = [
    Export(
        "slack",
        lambda: SlackExportLoader(SLACK),
        slack_part,
        re.compile(
            re.escape(SLACK) + r"/archives/(?P<channel>C\w+)/p(?P<seconds>\d{10})(?P<micros>\d{6})"
            r"(\?thread_ts=\d+\.\d+&cid=(?P=channel))?"
        ),
        slack_post,
        # "Thanks <@U01ECGRL8CB>! ...": Kay thanks Gabriel Becker, by a mention.
        KnownPost(
            stable_id("slack", SLACK_TEAM, "C01EST8PTFA", "post", "1621139267.043500"),
            "Kay",
            "Gabriel Becker",
        ),
    ),
    Export(
        "zulip",
        lambda: ZulipArchiveLoader(ZULIP),
        zulip_part,
        re.compile(re.escape(ZULIP) + r"/#narrow/stream/\d+-[^/]+/topic/[^/]+/near/(?P<id>\d+)"),
        lambda link, _: stable_id("zulip", "zulip2.cloud.ucar.edu", link["id"]),
        # Michael Levy's reply opens with a mention of Keith Lindsay.
        KnownPost(
            stable_id("zulip", "zulip2.cloud.ucar.edu", 15880), "Michael Levy", "Keith Lindsay"
        ),
    ),
    Export(
        "discord",
        DiscordExportLoader,
        all_files("discord-ethglobal", "*.json"),
        re.compile(r"https://discord\.com/channels/(?P<guild>\d+)/\d+/(?P<id>\d+)"),
        lambda link, _: stable_id("discord", link["guild"], link["id"]),
        # "Hey @wr1159 that depends...", by the member whose nickname is "Pascal | ETHGlobal".
        KnownPost(
            stable_id("discord", "554623348622098432", "1332389357818089495"),
            "Pascal | ETHGlobal",
            "wr1159",
        ),
    ),
    Export(
        "mbox",
        lambda: MailingListLoader(archive_url=PIPERMAIL),
        mbox_part,
        # Pipermail numbers its message pages itself: a post links its month's thread index.
        re.compile(re.escape(PIPERMAIL) + rf"/\d{{4}}-(?:{MONTHS})/thread\.html"),
        None,
        # Rob Day's answer, "Hi Gavin, ...", below which Outlook quoted Gavin Murphy's question.
        KnownPost(
            stable_id(
                "mbox",
                "BY2PR0201MB1926920A9F7AB7958FB1E441F40D0@BY2PR0201MB1926.namprd02.prod.outlook.com",
            ),
            "Robert Day",
            "Gavin",
            others_words="I noticed that if ENUM is enabled",
        ),
    ),
    Export(
        "discourse",
        lambda: DiscourseLoader(DISCOURSE),
        all_files("discourse-api-samples", "*.json"),
        re.compile(re.escape(DISCOURSE) + r"/t/[^/]+/(?P<topic>\d+)/(?P<number>\d+)"),
        discourse_post,
        # Stefan Plattner's reply in the topic Sam Saffron opened.
        KnownPost(
            stable_id("discourse", "try.discourse.org", 226), "Stefan Plattner", "Sam Saffron"
        ),
    ),
    Export(
        "stackexchange",
        lambda: StackExchangeDumpLoader(STACKEXCHANGE),
        some_files("stackexchange-bicycles-meta", ["Posts.xml", "Comments.xml", "Users.xml"]),
        re.compile(
            re.escape(STACKEXCHANGE)
            + r"/(?:[qa]/(?P<post>\d+)|questions/\d+#comment(?P<comment>\d+)_\d+)"
        ),
        stackexchange_post,
        # Comment 39, "@Pekka Woosh, right over my head...", by user 23.
        KnownPost(
            stable_id("stackexchange", "bicycles.meta.stackexchange.com", "comment", "39"),
            "Dustin Ingram",
            "Pekka",
        ),
    ),
]
FORMATS = [pytest.param(e, id=e.kind) for e in EXPORTS]


@dataclass(frozen=True)
class Loaded:
    """A bounded part of one export, loaded from two copies of it in different folders."""

    source: Path
    first: list[Document | LoadFailure]
    second: list[Document | LoadFailure]

    @property
    def threads(self) -> list[Document]:
        return [d for d in self.first if isinstance(d, Document)]

    def post(self, post_id: str) -> tuple[Document, Post]:
        return next((d, p) for d in self.threads for p in d.posts if p.id == post_id)


@pytest.fixture(scope="module")
def loads(shared_data: Path, tmp_path_factory) -> Callable[[Export], Loaded]:
    """Each format's part, copied and loaded the first time a test asks for it."""
    made: dict[str, Loaded] = {}

    def loaded(export: Export) -> Loaded:
        if export.kind not in made:
            first, second = (
                export.copy(shared_data, tmp_path_factory.mktemp(f"{export.kind}-{n}") / "export")
                for n in ("a", "b")
            )
            made[export.kind] = Loaded(
                first, list(export.loader().load(first)), list(export.loader().load(second))
            )
        return made[export.kind]

    return loaded


def flat(text: str) -> str:
    return " ".join(text.split())


# --- the contract: the same tests for every discussion format ----------------------------
@pytest.mark.parametrize("export", FORMATS)
def test_the_part_loads_whole_and_is_found_by_detection(loads, export: Export) -> None:
    loaded = loads(export)
    assert [f for f in loaded.first if isinstance(f, LoadFailure)] == []
    replied = [d for d in loaded.threads if len({p.author_id for p in d.posts}) >= 2]
    # Enough to hold the contract to; the Discourse samples hold one conversation only.
    assert len(loaded.threads) >= 5 and len(replied) >= 1
    assert {d.kind for d in loaded.threads} == {export.kind}
    (found,) = SourceFinder(all_loaders(SourceLinkSettings())).find(loaded.source)
    assert isinstance(found, FoundSource) and found.loader.kind == export.kind


@pytest.mark.parametrize("export", FORMATS)
def test_ids_are_the_same_in_two_loads_from_two_places(loads, export: Export) -> None:
    loaded = loads(export)
    first = [(d.id, [p.id for p in d.posts]) for d in loaded.first if isinstance(d, Document)]
    second = [(d.id, [p.id for p in d.posts]) for d in loaded.second if isinstance(d, Document)]
    assert first == second
    thread_ids = [d for d, _ in first]
    post_ids = [p for _, posts in first for p in posts]
    # The catalog keeps posts by id across threads and sources: one id, one post.
    assert len(set(thread_ids)) == len(thread_ids) and len(set(post_ids)) == len(post_ids)
    assert not set(thread_ids) & set(post_ids)


@pytest.mark.parametrize("export", FORMATS)
def test_every_post_has_an_author_a_date_and_a_place(loads, export: Export) -> None:
    loaded = loads(export)
    for thread in loaded.threads:
        assert thread.title.strip(), thread.id
        assert thread.channel or thread.url, thread.title  # where it sits, for a citation
        assert Path(thread.path).is_file() and Path(thread.path).is_relative_to(loaded.source)
        # A thread is credited to, and dated by, the post that opened it.
        assert (thread.author, thread.created_at) == (
            thread.posts[0].author_name,
            thread.posts[0].created_at,
        )
        for post in thread.posts:
            assert post.author_name.strip() and post.author_id.strip(), post
            assert post.created_at is not None and EARLIEST < post.created_at < LATEST, post
            assert post.url, post
            assert post.text.strip(), post


@pytest.mark.parametrize("export", FORMATS)
def test_every_link_opens_the_post_it_belongs_to(loads, export: Export) -> None:
    loaded = loads(export)
    posts = [p for d in loaded.threads for p in d.posts]
    for post in posts:
        link = export.link.fullmatch(post.url)
        assert link, post.url
        if export.post_of_link is not None:
            assert export.post_of_link(link, loaded.source) == post.id, post.url
    if export.post_of_link is not None:
        assert len({p.url for p in posts}) == len(posts)  # no two posts share a link


@pytest.mark.parametrize("export", FORMATS)
def test_a_post_is_credited_to_the_member_who_wrote_it(loads, export: Export) -> None:
    known = export.known
    thread, post = loads(export).post(known.id)
    assert post.author_name == known.author != known.other
    assert known.other in post.text or known.other == thread.author
    if known.others_words:
        assert known.others_words in thread.posts[0].text
        assert known.others_words not in post.text


THREADS_CITED = 3  # per format: a few threads of a few posts each, tens of chunks in all


def cited_threads(loaded: Loaded) -> list[Document]:
    """The first few threads in which at least two members wrote, a few posts each."""
    chosen = [
        d
        for d in loaded.threads
        if 3 <= len(d.posts) <= 8
        and len({p.author_id for p in d.posts}) >= 2
        and sum(len(p.text) for p in d.posts) <= 3000
    ]
    assert chosen
    return chosen[:THREADS_CITED]


@pytest.mark.parametrize("export", FORMATS)
def test_a_quote_cites_the_post_it_was_written_in(loads, export: Export, pipeline, store) -> None:
    loaded = loads(export)
    threads = cited_threads(loaded)
    source = SourceRecord(
        id=export.kind, kind=export.kind, locator=str(loaded.source), uploader="", access="public"
    )
    pipeline.write([(source, thread) for thread in threads])
    written = {p.id: p for d in threads for p in d.posts}
    hits = [(cid, 1.0) for cid in sorted(store.chunk_ids())]
    quoted: set[str] = set()
    for scored in store.chunks(hits):
        sentences = passage_sentences(scored.chunk)
        assert sentences, scored.chunk.text
        for sentence in sentences:
            quote = Quote(sentence.text, sentence.author, sentence.post_id)
            cited = Citation(1, scored.chunk, scored.score, quotes=(quote,)).post(quote)
            assert cited is not None, sentence
            post = written[cited.id]
            # The quoted words are that post's own, and the citation names and links it.
            assert flat(sentence.text).removesuffix(" …") in flat(post.text), sentence
            assert sentence.author == header_name(post.author_name)
            assert (cited.author_name, cited.created_at, cited.url) == (
                post.author_name,
                post.created_at,
                post.url,
            )
            quoted.add(post.id)
    # Every post long enough to say something can be quoted, and so cited.
    assert quoted >= {pid for pid, p in written.items() if len(p.text.split()) >= 8}


# --- the document loaders: the sample's real files ---------------------------------------
DOCUMENTS = [
    pytest.param(PdfLoader(), "meeting-minutes-2025-09.pdf", id="pdf"),
    pytest.param(MarkdownLoader(), "laser-cutter-safety.md", id="markdown"),
    pytest.param(HtmlLoader(), "tool-booking-policy.html", id="html"),
    pytest.param(TextLoader(), "woodshop-rules.txt", id="text"),
]


@pytest.mark.parametrize(("loader", "name"), DOCUMENTS)
def test_a_document_loads_the_same_twice_and_names_its_place(
    loader: Loader, name: str, embedder, tmp_path: Path
) -> None:
    path = SAMPLE_DOCS / name
    assert loader.detect(path)
    first, second = list(loader.load(path)), list(loader.load(path))
    assert first == second and len(first) == 1
    (document,) = first
    assert isinstance(document, Document) and document.kind == loader.kind
    assert document.id == stable_id("file", path.resolve())
    assert document.title.strip() and Path(document.path).resolve() == path.resolve()
    assert document.sections and all(s.text.strip() for s in document.sections)
    pages = [s.page for s in document.sections]
    if loader.kind == "pdf":
        assert pages == list(range(1, len(pages) + 1))
    else:
        assert set(pages) == {None}
    ingest = Settings(home=tmp_path / "home").ingest
    chunker = Chunker(embedder.tokenize, ingest.chunk_size, ingest.chunk_overlap)
    chunks = chunker.chunk(document, source_id="sample")
    assert chunks
    for chunk in chunks:
        assert chunk.place == (name if chunk.page is None else f"{name}, p. {chunk.page}")
