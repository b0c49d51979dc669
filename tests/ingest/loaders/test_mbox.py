"""MailingListLoader on the Project Clearwater Pipermail archive, and on small broken mboxes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copqa.models import Document, LoadFailure, stable_id
from ingest.loaders.discussions.mail_body import authored_text
from ingest.loaders.discussions.mbox import MailingListLoader

ARCHIVE_URL = "http://lists.projectclearwater.org/pipermail/clearwater_lists.projectclearwater.org"
# Gavin Murphy's question (November 2015) and Rob Day's answer (December 2015).
ENUM_QUESTION = "565751A9.1070302@newnet.com"
ENUM_ANSWER = "BY2PR0201MB1926920A9F7AB7958FB1E441F40D0@BY2PR0201MB1926.namprd02.prod.outlook.com"
# A Gmail reply: its own text on top, then "On ... <address>\nwrote:" and "> " lines.
IPV6_REPLY = "CAMVsSNS+_APbbiSkw+vtU2O764U4q2ZAJdY9csmK6zgrEtZBkQ@mail.gmail.com"


@pytest.fixture(scope="module")
def archive(shared_data: Path) -> Path:
    return shared_data / "mbox-clearwater"


@pytest.fixture(scope="module")
def loaded(archive: Path) -> list[Document | LoadFailure]:
    return list(MailingListLoader().load(archive))


@pytest.fixture(scope="module")
def documents(loaded: list[Document | LoadFailure]) -> list[Document]:
    return [d for d in loaded if isinstance(d, Document)]


def thread_of(documents: list[Document], message_id: str) -> Document:
    post_id = stable_id("mbox", message_id)
    return next(d for d in documents if any(p.id == post_id for p in d.posts))


def test_every_message_is_read_and_threaded(loaded: list[Document | LoadFailure]) -> None:
    documents = [d for d in loaded if isinstance(d, Document)]
    assert [f for f in loaded if isinstance(f, LoadFailure)] == []
    # The archive holds 1,809 messages (one "From x at y <date>" line each). The data
    # README's 1,850 also splits at the 41 body lines that start with "From " (which
    # Pipermail does not escape), and those 41 headerless fragments are its 41
    # "unparseable dates". One message is archived twice (same Message-ID) and 11 have
    # no text of their own (HTML-only mails whose body Pipermail scrubbed, an empty
    # test mail, a bare forward of a digest): 1,809 - 1 - 11 posts.
    assert sum(len(d.posts) for d in documents) == 1797
    # 674 reply-header roots; 120 of them are joined to a recent thread of the same
    # subject (Pipermail drops "Re:" and many follow-ups lack In-Reply-To); 5 threads
    # have no text at all. The README's 648 counts messages without References,
    # its 41 fragments included (1,850 - 1,202).
    assert len(documents) == 549
    assert len({d.id for d in documents}) == 549
    assert {d.channel for d in documents} == {"Project Clearwater"}
    assert {d.kind for d in documents} == {"mbox"}


def test_dates_parse_and_posts_are_chronological(documents: list[Document]) -> None:
    for thread in documents:
        times = [p.created_at for p in thread.posts]
        assert None not in times, thread.title
        assert times == sorted(times), thread.title  # type: ignore[type-var]
        assert thread.created_at == times[0]
        assert thread.author == thread.posts[0].author_name


def test_a_reply_in_the_next_month_joins_its_thread(documents: list[Document]) -> None:
    thread = thread_of(documents, ENUM_ANSWER)
    assert thread.id == stable_id("mbox", "thread", ENUM_QUESTION)
    assert thread.title == "Terminating iFCs not being applied when ENUM enabled"
    assert thread.path.endswith("2015-November.txt")
    assert thread.url == ""
    question, answer = thread.posts
    assert question.id == stable_id("mbox", ENUM_QUESTION)
    assert question.created_at == 1448563113
    assert answer.reply_to == question.id
    assert (answer.author_id, answer.author_name) == ("robert.day@metaswitch.com", "Robert Day")
    assert answer.text.startswith("Hi Gavin,\n\nThis is expected behaviour for ENUM")
    assert answer.text.endswith("Hope that helps,\nRob")
    # Signature and the unquoted Outlook copy of the question are gone.
    assert "Software Engineer" not in answer.text
    assert "From: Clearwater" not in answer.text
    assert "I noticed that if ENUM is enabled" not in answer.text


def test_a_reply_holds_none_of_its_quoted_lines(archive: Path, documents: list[Document]) -> None:
    raw = (archive / "2016-February.txt").read_text(encoding="utf-8")
    start = raw.index(f"Message-ID: <{IPV6_REPLY}>")
    end = re.compile(r"^From \S+ at \S+ ", re.M).search(raw, start)
    assert end is not None
    quoted = [line[2:] for line in raw[start : end.start()].splitlines() if line.startswith("> ")]
    assert len(quoted) == 19
    thread = thread_of(documents, IPV6_REPLY)
    reply = next(p for p in thread.posts if p.id == stable_id("mbox", IPV6_REPLY))
    assert "the baseresolver code can strip the square brackets" in reply.text
    assert reply.text.endswith("Amauri and Marco.\nAmaurco.")
    assert "wrote:" not in reply.text
    own_lines = set(reply.text.splitlines())
    # "Thank you," closes both the quote and the reply; every other line is distinct.
    assert [line for line in quoted if line in own_lines] == ["Thank you,"]
    assert not [line for line in quoted if len(line) > 30 and line in reply.text]


def test_body_lines_starting_with_from_stay_in_their_message(documents: list[Document]) -> None:
    thread = next(d for d in documents if d.title == "Sprout routing problem")
    answers = [p for p in thread.posts if "From the log you provided" in p.text]
    assert [p.author_name for p in answers] == ["Robert Day (projectclearwater.org)"]


def test_obfuscated_addresses_become_author_ids(documents: list[Document]) -> None:
    posts = [p for d in documents for p in d.posts]
    authors = {(p.author_id, p.author_name) for p in posts}
    assert ("gavin.murphy@newnet.com", "Gavin Murphy") in authors
    # Pipermail shows some senders by address only: the address is then the name too.
    assert ("masood.tahir696@gmail.com", "masood.tahir696@gmail.com") in authors
    assert not [p for p in posts if " at " in p.author_id or not p.author_id]


def test_headerless_follow_ups_join_by_subject_but_not_years_later(
    documents: list[Document],
) -> None:
    trunking = [d for d in documents if d.title == "SIP Trunking With PBX_aio"]
    assert [len(d.posts) for d in trunking] == [17]
    # Surender Singh's follow-ups carry no In-Reply-To; Graeme Robertson's answers do.
    assert [p.reply_to is None for p in trunking[0].posts].count(True) == 11
    stress = sorted(
        (d for d in documents if d.title.lower() == "stress testing"), key=lambda d: d.path
    )
    assert [Path(d.path).name for d in stress] == ["2016-August.txt", "2018-March.txt"]


def test_ids_do_not_depend_on_what_else_was_loaded(
    archive: Path, documents: list[Document]
) -> None:
    again = [d for d in MailingListLoader().load(archive) if isinstance(d, Document)]
    assert [(d.id, [p.id for p in d.posts]) for d in again] == [
        (d.id, [p.id for p in d.posts]) for d in documents
    ]
    december = [
        d
        for d in MailingListLoader().load(archive / "2015-December.txt")
        if isinstance(d, Document)
    ]
    # Alone, December lacks the question: the answer roots its own thread, same post id.
    alone = thread_of(december, ENUM_ANSWER)
    assert alone.id == stable_id("mbox", "thread", ENUM_ANSWER)
    assert alone.posts[0].id == thread_of(documents, ENUM_ANSWER).posts[1].id
    assert alone.posts[0].reply_to is None
    assert alone.title == "Terminating iFCs not being applied when ENUM enabled"
    assert alone.channel == "Clearwater"  # the list's subject tag in 2015


def test_archive_url_links_monthly_thread_indexes(archive: Path) -> None:
    loader = MailingListLoader(archive_url=ARCHIVE_URL + "/", list_name="clearwater")
    documents = [d for d in loader.load(archive / "2015-November.txt") if isinstance(d, Document)]
    thread = thread_of(documents, ENUM_QUESTION)
    assert thread.url == f"{ARCHIVE_URL}/2015-November/thread.html"
    assert thread.posts[0].url == thread.url
    assert thread.channel == "clearwater"


def test_detect(archive: Path, tmp_path: Path) -> None:
    loader = MailingListLoader()
    assert loader.detect(archive)
    assert loader.detect(archive / "2019-June.txt")
    assert not loader.detect(archive / "README.md")
    (tmp_path / "notes.txt").write_text("From the start, this was a plain note.\n")
    assert not loader.detect(tmp_path / "notes.txt")
    assert not loader.detect(tmp_path)
    assert not loader.detect(tmp_path / "missing.mbox")


def message(
    sender: str,
    message_id: str,
    body: str,
    subject: str = "[Demo] Install fails",
    date: str = "Mon, 3 Jun 2019 10:00:00 +0000",
    extra: str = "",
) -> str:
    return (
        f"From {sender.replace('@', ' at ')}  Mon Jun  3 10:00:00 2019\n"
        f"From: {sender.replace('@', ' at ')} ({sender.split('@')[0].title()})\n"
        f"Date: {date}\nSubject: {subject}\nMessage-ID: <{message_id}>\n{extra}\n{body}\n\n"
    )


def load(path: Path) -> tuple[list[Document], list[LoadFailure]]:
    items = list(MailingListLoader().load(path))
    return (
        [i for i in items if isinstance(i, Document)],
        [i for i in items if isinstance(i, LoadFailure)],
    )


def test_bad_dates_become_none_and_keep_archive_order(tmp_path: Path) -> None:
    mbox = tmp_path / "list.mbox"
    mbox.write_text(
        message("ann@example.org", "q@x", "How do I install it?")
        + message("bob@example.org", "a1@x", "Use apt.", date="garbage", extra="In-Reply-To: <q@x>")
        + message("cy@example.org", "a2@x", "Or docker.", date="", extra="In-Reply-To: <q@x>")
    )
    (thread,), failures = load(mbox)
    assert failures == []
    assert [p.author_name for p in thread.posts] == ["Ann", "Bob", "Cy"]
    assert [p.created_at for p in thread.posts] == [1559556000, None, None]
    assert thread.title == "Install fails"
    assert thread.channel == "Demo"


def test_garbage_and_missing_separators_do_not_crash(tmp_path: Path) -> None:
    mbox = tmp_path / "list.mbox"
    mbox.write_bytes(
        b"\n"
        + message("ann@example.org", "q@x", "Question one?").encode()
        + b"\x00\xff binary junk between messages \xfe\n"
        + message("bob@example.org", "a@x", "Answer.", extra="In-Reply-To: <q@x>").encode()
        # No separator before this one: it stays inside Bob's message.
        + b"From: cy at example.org (Cy)\nSubject: lost\n\nLost words.\n"
    )
    (thread,), failures = load(mbox)
    assert failures == []
    question, answer = thread.posts
    assert "binary junk between messages" in question.text
    assert answer.text.startswith("Answer.")
    assert "Lost words." in answer.text


def test_files_that_are_not_mbox_are_reported(tmp_path: Path) -> None:
    single = tmp_path / "notes.txt"
    single.write_text("Meeting notes\nFrom 9 to 5.\n")
    error = "not an mbox file: no 'From <sender> <date>' line"
    assert load(single) == ([], [LoadFailure(str(single), error)])
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "2019-June.txt").write_text(message("ann@example.org", "q@x", "Hello list."))
    (folder / "broken.mbox").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "README.txt").write_text("Not mail.\n")
    documents, failures = load(folder)
    assert [d.title for d in documents] == ["Install fails"]
    assert [f.path for f in failures] == [str(folder / "broken.mbox")]
    assert load(tmp_path / "missing.mbox")[1][0].error.startswith("unreadable")


def test_mime_parts_encodings_and_8bit_bytes(tmp_path: Path) -> None:
    multipart = (
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="b"\n\n'
        "--b\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 is open.\n"
        "--b\nContent-Type: text/html\n\n<p>HTML copy</p>\n--b--\n"
    )
    html_only = "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n"
    mbox = tmp_path / "list.mbox"
    mbox.write_bytes(
        message(
            "ann@example.org", "m1@x", "", subject="=?utf-8?q?Caf=C3=A9_is_open?=", extra=multipart
        ).encode()
        + message("bob@example.org", "m2@x", "PGI+Qm9sZDwvYj4gaWRlYQ==", extra=html_only).encode()
        + message("cy@example.org", "m3@x", "Na\xefve latin-1", subject="Caf\xe9").encode("latin-1")
    )
    documents, failures = load(mbox)
    assert failures == []
    texts = {d.title: d.posts[0].text for d in documents}
    assert texts["Café is open"] == "Café is open."
    assert texts["Install fails"] == "Bold idea"
    assert texts["Café"] == "Naïve latin-1"


def test_authored_text_strips_what_others_wrote() -> None:
    body = (
        ">From the logs I see it.\n"
        "Try a restart.\n\n"
        "On Tue, Feb 2, 2016 at 11:31 AM, Ann <ann at example.org>\nwrote:\n\n"
        "> It fails.\n>\n"
        "Also check DNS.\n"
        "--\nBob, Example Corp\n"
        "-------------- next part --------------\nAn HTML attachment was scrubbed...\n"
    )
    assert authored_text(body) == "From the logs I see it.\nTry a restart.\n\nAlso check DNS."
    outlook = (
        "Fixed in release 112.\n\nFrom: Clearwater [mailto:x at y.org] On Behalf Of Ann\n"
        "Sent: 05 December 2016 13:37\nTo: list\nSubject: It fails\n\nIt fails.\n"
    )
    assert authored_text(outlook) == "Fixed in release 112."
    footer = "Thanks!\n_______________________________________________\nDemo mailing list\n"
    assert authored_text(footer) == "Thanks!"
    assert authored_text("A\n-----Original Message-----\nB") == "A"
    stub = "Logs below.\n-------------- next part --------------\nerror: disk full\n"
    assert authored_text(stub) == "Logs below.\nerror: disk full"
    # A first message has nobody to quote: its ">" lines are prompts or bullets.
    assert authored_text("> apt-get install sprout\nfails", is_reply=False) == (
        "> apt-get install sprout\nfails"
    )
