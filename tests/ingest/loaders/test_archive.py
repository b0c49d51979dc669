"""Safe in-memory zip reading: zip slip and zip bombs refused, nothing ever written."""

from __future__ import annotations

import json
import os
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from copqa.models import LoadFailure
from ingest.loaders.archive import (
    ArchiveError,
    SafeZip,
    UnsafeArchiveError,
    iter_zip_members,
    open_export,
    read_json,
)

MIB = 1024**2
EVIL = "copqa-zip-slip-evil.txt"


@pytest.fixture
def zips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder for the test's own inputs, with the working directory moved to an empty
    folder beside it; afterwards nothing may exist outside the inputs folder."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield inputs
    outside = {p.name for p in tmp_path.iterdir()} | {p.name for p in cwd.iterdir()}
    assert outside == {"inputs", "cwd"}, "reading a zip wrote files"
    assert not [p for p in inputs.rglob(EVIL)]
    assert not (Path("/tmp") / EVIL).exists()


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def _patch_headers(
    path: Path, local_offset: int, central_offset: int, fmt: str, value: int
) -> None:
    """Overwrite one field of the (single) member's local and central headers."""
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into(fmt, data, local_offset, value)
    struct.pack_into(fmt, data, central + central_offset, value)
    path.write_bytes(bytes(data))


def test_members_are_read_in_memory(zips: Path) -> None:
    archive = _zip(
        zips / "ok.zip", {"export/": b"", "export/a.json": b"[1]", "export/b.txt": b"hi"}
    )
    assert list(iter_zip_members(archive)) == [("export/a.json", b"[1]"), ("export/b.txt", b"hi")]
    wanted = list(iter_zip_members(archive, lambda name: name.endswith(".json")))
    assert wanted == [("export/a.json", b"[1]")]


@pytest.mark.parametrize(
    "name", [f"../{EVIL}", f"a/../../{EVIL}", f"/tmp/{EVIL}", f"C:/{EVIL}", f"..\\{EVIL}"]
)
def test_zip_slip_is_refused(zips: Path, name: str) -> None:
    archive = _zip(zips / "slip.zip", {"fine.txt": b"ok", name: b"owned"})
    with pytest.raises(UnsafeArchiveError, match="points outside the archive"):
        SafeZip(archive)
    with pytest.raises(UnsafeArchiveError):
        list(iter_zip_members(archive))


def test_zip_bomb_is_refused_from_its_headers(zips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _zip(zips / "bomb.zip", {"zeros.json": bytes(8 * MIB)})
    assert archive.stat().st_size < 20_000

    def inflate(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was opened before the headers were checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", inflate)
    with pytest.raises(UnsafeArchiveError, match=r"inflates \d+ times its compressed size"):
        SafeZip(archive)


def test_total_size_limit(zips: Path) -> None:
    archive = _zip(zips / "big.zip", {"a.bin": os.urandom(600_000), "b.bin": os.urandom(600_000)})
    with pytest.raises(UnsafeArchiveError, match="more than 1000000 bytes"):
        SafeZip(archive, max_total_bytes=1_000_000)
    with SafeZip(archive, max_total_bytes=1_300_000) as opened:
        assert len(opened.read("a.bin")) == 600_000
        assert len(opened.read("b.bin")) == 600_000
        # Every read counts against the limit, so it holds while reading too.
        with pytest.raises(UnsafeArchiveError, match="past its size limit"):
            opened.read("a.bin")


def test_small_members_may_compress_well(zips: Path) -> None:
    # 512 KiB of zeros compresses ~1000:1, yet cannot exhaust anything.
    archive = _zip(zips / "sparse.zip", {"padding.json": bytes(512 * 1024)})
    with SafeZip(archive) as opened:
        assert opened.read("padding.json") == bytes(512 * 1024)


def test_a_lying_header_is_caught_while_reading(zips: Path) -> None:
    archive = _zip(zips / "liar.zip", {"data.json": bytes(2 * MIB)})
    # Declare 1,000 bytes where 2 MiB inflate: the header checks pass...
    _patch_headers(archive, 22, 24, "<I", 1000)
    # ...but reading stops at the declared size, and the member fails its checksum.
    with SafeZip(archive) as opened, pytest.raises(ArchiveError, match=r"data\.json: .*CRC"):
        opened.read("data.json")


def test_encrypted_corrupt_and_unbounded_members(zips: Path) -> None:
    encrypted = _zip(zips / "locked.zip", {"secret.json": b"[]"}, zipfile.ZIP_STORED)
    _patch_headers(encrypted, 6, 8, "<H", 0x1)  # the "encrypted" flag
    with (
        SafeZip(encrypted) as opened,
        pytest.raises(ArchiveError, match=r"secret\.json: .*encrypted"),
    ):
        opened.read("secret.json")
    corrupt = _zip(zips / "corrupt.zip", {"data.json": b"[1, 2, 3]"}, zipfile.ZIP_STORED)
    corrupt.write_bytes(corrupt.read_bytes().replace(b"[1, 2, 3]", b"[1, 2, 4]"))
    with SafeZip(corrupt) as opened, pytest.raises(ArchiveError, match="Bad CRC"):
        opened.read("data.json")
    bzip2 = _zip(zips / "bz2.zip", {"data.json": b"[]"}, zipfile.ZIP_BZIP2)
    with pytest.raises(UnsafeArchiveError, match="only stored and deflate"):
        SafeZip(bzip2)
    not_a_zip = zips / "fake.zip"
    not_a_zip.write_text("hello")
    with pytest.raises(ArchiveError, match="not a readable zip archive") as refused:
        SafeZip(not_a_zip)
    assert not isinstance(refused.value, UnsafeArchiveError)


def test_folder_and_zip_exports_list_the_same_files(zips: Path) -> None:
    files = {"channels.json": b"[]", "general/2021-01-01.json": b"[{}]"}
    folder = zips / "export"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    archive = _zip(
        zips / "export.zip",
        {f"slack/{name}": data for name, data in files.items()}
        | {"__MACOSX/slack/._channels.json": b"\0"},
    )
    from_folder = open_export(folder, marker="channels.json")
    from_zip = open_export(archive, marker="channels.json")
    try:
        assert from_folder.names == from_zip.names == ("channels.json", "general/2021-01-01.json")
        for name in from_zip.names:
            assert from_zip.read(name) == from_folder.read(name) == files[name]
        assert from_zip.where("channels.json") == f"{archive}/slack/channels.json"
        assert from_folder.where("channels.json") == str(folder / "channels.json")
    finally:
        from_folder.close()
        from_zip.close()


def test_read_json_says_why_a_file_is_unusable(zips: Path) -> None:
    archive = _zip(
        zips / "json.zip",
        {
            "list.json": json.dumps([1]).encode(),
            "object.json": b"{}",
            "broken.json": b"[1,",
            "latin1.json": b'["caf\xe9"]',
        },
    )
    export = open_export(archive, marker="list.json")
    try:
        assert read_json(export, "list.json", list) == ([1], None)

        def failure(name: str) -> str:
            value, failed = read_json(export, name, list)
            assert value is None
            assert isinstance(failed, LoadFailure)
            assert failed.path == f"{archive}/{name}"
            return failed.error

        assert failure("object.json") == "expected a JSON list"
        assert failure("broken.json").startswith("malformed JSON: ")
        assert failure("latin1.json").startswith("not UTF-8 text: ")
        assert failure("missing.json").startswith("unreadable: missing.json: no such member")
    finally:
        export.close()
