"""Hostile inputs too big or too particular to generate: each ends in a clear per-file
failure or a parse, in bounded time and memory, writing nothing outside the input.

Deep nesting (100,000 levels), a 20 MB line, zip slip and zip bombs, an mbox missing a
separator, empty files, exports missing parts; and one batch of good and hostile files
through the real pipeline, model and store.
"""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from copqa.models import Document, LoadFailure
from copqa.settings import SourceLinkSettings
from ingest.loaders.registry import all_loaders
from ingest.uploads import Upload, UploadDesk
from tests.support.fuzz_harness import bounded, case_folder, check_source, ingestion_reads
from tests.support.fuzz_seeds import MBOX, SEEDS, SLACK_FILES, write_seed, zipped

LOADERS = {loader.kind: loader for loader in all_loaders(SourceLinkSettings())}
DEPTH = 100_000
# bs4 builds 100,000 tags in seconds on a busy CI core whatever their nesting; 20,000
# nested ones are as hostile (20 times the recursion limit, hours for a quadratic walk).
MARKUP_DEPTH = 20_000
HUGE_LINE = 20 * 2**20
GB = 10**9


def _loaded(kind: str, files: dict[str, bytes], source: str = "") -> list[Document | LoadFailure]:
    """Write `files`, load them with loader `kind` (directly and through the finder)."""
    with case_folder(kind) as root:
        write_seed(root, files)
        return check_source(LOADERS[kind], root / source, root)


def _failures(items: list, name: str) -> list[str]:
    return [i.error for i in items if isinstance(i, LoadFailure) and name in i.path]


def _nested(opening: str, closing: str, depth: int = DEPTH) -> str:
    return opening * depth + closing * depth


DISCORD_HEAD = '{"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": '

DEEP_JSON = {
    "discord": ({"deep.json": (DISCORD_HEAD + _nested("[", "]") + "}").encode()}, "deep.json"),
    "discourse": (
        {"deep.json": ('{"post_stream": ' + _nested('{"a":', "}") + "}").encode()},
        "deep.json",
    ),
    "jsonl": (
        {"deep.jsonl": b'{"id": "1", "text": "fine"}\n' + _nested("[", "]").encode()},
        "deep.jsonl",
    ),
    "slack": ({**SLACK_FILES, "general/2024-01-02.json": _nested("[", "]").encode()}, ""),
    "zulip": (
        {
            **SEEDS["zulip"].files,
            "zulip_json/1-general.20chat/3D.20printing.json": _nested("[", "]").encode(),
        },
        "",
    ),
}


@pytest.mark.parametrize("kind", sorted(DEEP_JSON))
def test_json_nested_100k_levels_is_a_clear_failure(kind: str) -> None:
    files, source = DEEP_JSON[kind]
    deep = next(name for name, data in files.items() if len(data) > DEPTH)
    items = _loaded(kind, files, source)
    errors = _failures(items, Path(deep).name)
    assert errors and all("nested too deeply" in error for error in errors), items


@pytest.mark.parametrize(
    ("kind", "files", "source"),
    [
        (
            "html",
            {"deep.html": _nested("<div>", "</div>", MARKUP_DEPTH).encode() + b"<p>bottom</p>"},
            "deep.html",
        ),
        ("markdown", {"deep.md": b"# Deep\n\n" + b"> " * MARKUP_DEPTH + b"quoted"}, "deep.md"),
        (
            "stackexchange",
            {"Posts.xml": b"<posts>" + _nested("<x>", "</x>", MARKUP_DEPTH).encode() + b"</posts>"},
            "",
        ),
    ],
)
def test_deeply_nested_markup_is_read_in_bounded_time(kind: str, files: dict, source: str) -> None:
    _loaded(kind, files, source)  # the property: a document or a failure, within the bound


def test_deeply_nested_mime_parts_are_a_failure_of_that_message() -> None:
    parts = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(3000)
    )
    deep = (
        MBOX
        + f"\nFrom eve at example.org  Wed May  4 09:00:00 2016\nMessage-ID: <deep@x>\n{parts}".encode()
    )
    items = _loaded("mbox", {"2016-May.txt": deep})
    assert [d for d in items if isinstance(d, Document)], "the other messages still load"
    assert any("nested too deeply" in e for e in _failures(items, "2016-May.txt")), items


# Built when a test runs, not at collection: 20 MB apiece.
HUGE = {
    "text": lambda: ({"huge.txt": b"a" * HUGE_LINE}, "huge.txt"),
    "markdown": lambda: ({"huge.md": b"# Huge\n" + b"word " * (HUGE_LINE // 5)}, "huge.md"),
    "html": lambda: ({"huge.html": b"<p>" + b"x" * HUGE_LINE + b"</p>"}, "huge.html"),
    "jsonl": lambda: (
        {"huge.jsonl": b'{"id": "1", "text": "' + b"y" * HUGE_LINE + b'"}'},
        "huge.jsonl",
    ),
    "discord": lambda: (
        {"huge.json": (DISCORD_HEAD + '["' + "z" * HUGE_LINE + '"]}').encode()},
        "huge.json",
    ),
    "mbox": lambda: (
        {"huge.mbox": MBOX.split(b"\n\n", 1)[0] + b"\n\n" + b"From " * (HUGE_LINE // 5)},
        "huge.mbox",
    ),
}


@pytest.mark.parametrize("kind", sorted(HUGE))
def test_a_20_mb_line_is_read_in_bounded_time_and_memory(kind: str) -> None:
    files, source = HUGE[kind]()
    tracemalloc.start()
    try:
        _loaded(kind, files, source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Two loads (direct and through the finder): a few copies of the line, not hundreds.
    assert peak < 40 * HUGE_LINE, f"{kind}: peak {peak / 2**20:.0f} MB for a 20 MB line"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("random.pdf", bytes(range(256)) * 8, "not a readable PDF"),
        ("empty.pdf", b"", "empty file"),
        ("empty.md", b"", "empty file"),
        ("empty.txt", b"", "empty file"),
        ("empty.html", b"", "empty file"),
        ("empty.json", b"", "unsupported file type"),
        ("empty.mbox", b"", "unsupported file type"),
        (
            "latin1.json",
            DISCORD_HEAD.encode() + b'[{"id": "1", "content": "caf\xe9"}]}',
            "not UTF-8",
        ),
        ("no-separator.mbox", MBOX.split(b"\n", 1)[1], "unsupported file type"),
        ("binary.txt", b"\x00\x01\x02" * 100, "binary data"),
    ],
)
def test_broken_file_is_one_failure_naming_it(name: str, data: bytes, reason: str) -> None:
    with case_folder("broken") as root:
        (root / name).write_bytes(data)
        loader = next((x for x in LOADERS.values() if x.detect(root / name)), LOADERS["text"])
        items = check_source(loader, root / name, root)
    assert any(reason in error for error in _failures(items, name)), items


def test_mbox_missing_a_separator_keeps_the_message_in_the_one_before() -> None:
    lost = MBOX.replace(b"From ben at example.org  Mon May  2 11:00:00 2016\n", b"")
    items = _loaded("mbox", {"2016-May.txt": lost})
    documents = [d for d in items if isinstance(d, Document)]
    texts = " ".join(p.text for d in documents for p in d.posts)
    assert "How do I set the laser focus?" in texts and "Thanks!" in texts


def test_slack_export_missing_parts_loads_what_is_there() -> None:
    files = {k: v for k, v in SLACK_FILES.items() if not k.startswith(("users", "laser/"))}
    items = _loaded("slack", files)
    assert set(_failures(items, "users.json")) == {"missing: ids shown as names"}
    assert {d.channel for d in items if isinstance(d, Document)} == {"#general"}


def test_file_name_that_is_not_utf8_is_a_failure_not_a_crash() -> None:
    with case_folder("names") as root:
        (root / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"Sweep the floor.")
        items = bounded(lambda: list(ingestion_reads(root)), "finding and loading")
    assert [i for i in items if isinstance(i, LoadFailure) and "caf" in i.path], items


def _zip_with_declared_size(name: str, declared: int) -> bytes:
    """A zip whose one member's headers claim `declared` bytes once inflated."""
    data = bytearray(zipped({name: b"0" * 4096}))
    struct.pack_into("<I", data, 22, declared)  # local header: uncompressed size
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def _ratio_bomb(name: str, size: int) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(name, "w") as member,
    ):
        for _ in range(size // 2**20):
            member.write(bytes(2**20))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (zipped({**SLACK_FILES, "../../evil.txt": b"owned"}), "points outside the archive"),
        (
            zipped({**SLACK_FILES, "/tmp/copqa-fuzz-evil.txt": b"owned"}),
            "points outside the archive",
        ),
        (_zip_with_declared_size("channels.json", int(3.2 * GB)), "would expand to 3.2 GB"),
        (lambda: _ratio_bomb("channels.json", 64 * 2**20), "times its compressed size"),
    ],
    ids=["slip-relative", "slip-absolute", "bomb-declared", "bomb-ratio"],
)
def test_unsafe_slack_zip_is_refused_before_inflating(
    archive: bytes | Callable[[], bytes], reason: str
) -> None:
    archive = archive() if callable(archive) else archive  # a bomb is built only when run
    tracemalloc.start()
    try:
        items = _loaded("slack", {"export.zip": archive}, "export.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    errors = _failures(items, "export.zip")
    assert errors and all(reason in error for error in errors), items
    assert peak < 32 * 2**20, f"refusing took {peak / 2**20:.0f} MB"


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (
            zipped({"docs/ok.md": b"# Ok\n\nfine", "../../evil.txt": b"owned"}),
            "points outside the archive",
        ),
        (_zip_with_declared_size("docs/huge.md", int(3.2 * GB)), "would expand to 3.2 GB"),
    ],
    ids=["slip", "bomb"],
)
def test_unsafe_uploaded_zip_is_refused_and_nothing_written(
    tmp_path: Path, archive: bytes, reason: str
) -> None:
    home = tmp_path / "home"
    upload = tmp_path / "in" / "export.zip"
    upload.parent.mkdir()
    upload.write_bytes(archive)
    # Refused before ingestion, so no pipeline is needed to see it.
    desk = UploadDesk(home, pipeline=None, max_bytes=2**20)  # type: ignore[arg-type]
    report = desk.receive([Upload(upload, "export.zip")], "ada", allow_exports=True)
    assert [name for name, _ in report.refused] == ["export.zip"] and reason in report.refused[0][1]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == ["home", "home/uploads", "in", "in/export.zip"]
    assert not (tmp_path / "evil.txt").exists() and not (home / "evil.txt").exists()


# A community folder as people have them: documents, a chat export, an archive.
GOOD_FILES = {
    "docs/guide.md": SEEDS["markdown"].files["guide.md"],
    "docs/rules.txt": SEEDS["text"].files["rules.txt"],
    "chat/help.json": SEEDS["discord"].files["help.json"],
}
BAD_FILES = {
    "chat/deep.json": (DISCORD_HEAD + _nested("[", "]") + "}").encode(),
    "chat/latin1.json": DISCORD_HEAD.encode() + b'[{"id": "1", "content": "caf\xe9"}]}',
    "docs/random.pdf": bytes(range(256)) * 8,
    "docs/truncated.jsonl": SEEDS["jsonl"].files["posts.jsonl"][:40],
    "docs/empty.md": b"",
    "bomb/export.zip": _zip_with_declared_size("channels.json", int(3.2 * GB)),
}


def test_batch_of_good_and_hostile_files_ingests_the_good_and_names_the_bad(
    tmp_path: Path, pipeline, store, embedder
) -> None:
    folder = write_seed(tmp_path / "community", {**GOOD_FILES, **BAD_FILES})
    report = pipeline.ingest([folder])
    failed = {Path(f.path).name for f in report.failed}
    assert failed == {Path(name).name for name in BAD_FILES}, report.failed
    assert report.added == 3, report  # the guide, the rules, the chat's one thread
    assert store.vector_ids() == store.chunk_ids()
    hits = store.search(embedder.embed_query("How often are the dust bags emptied?"), 3)
    assert hits and hits[0].chunk.path.endswith("rules.txt")
    hits = store.search(embedder.embed_query("How do I deploy the contract?"), 3)
    assert hits and hits[0].chunk.path.endswith("help.json")
