"""Hypothesis strategies that break a valid source the ways real files break.

Byte-level: truncation at any byte, flipped bytes, inserted junk (random bytes or
fragments known to trip parsers), deleted and duplicated runs. Structure-level for JSON:
a value anywhere in the tree replaced by the wrong type, a huge or non-finite number,
a lone surrogate, very deep nesting, or its key removed. Source-level: a file of a
multi-file export removed, a zip member renamed to climb out of the archive.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from tests.support.fuzz_seeds import Seed, zipped

# Fragments that trip parsers of one format or another, inserted anywhere.
HOSTILE_BYTES = (
    b"\x00",
    b"\xff\xfe",
    b"\xc3",  # a cut UTF-8 sequence
    b"\xed\xa0\x80",  # a surrogate encoded as UTF-8: invalid
    b"\r",
    b"\n\nFrom x Mon Jan  1 00:00:00 2000\n",
    b"\nFrom no-date-here\n",
    b"<" * 64,
    b"<div>" * 2000,
    b"<a href='http://x'>" * 500,
    b"&#xD800;&#0;&undefined;",
    b"]]>",
    b"<!DOCTYPE r [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>&e;",
    b"%PDF-1.7\n",
    b"PK\x03\x04",
    b"\\ud800",
    b'"\\',
    b"[" * 2000,
    b"{" * 2000,
    b"=?utf-8?q?=ED=A0=80?= =?x-unknown?b?////?=",
    b"Content-Type: text/plain; charset=idna\n",
    b"Content-Transfer-Encoding: base64\n\n@@@@",
)

# JSON values, as JSON text, that loaders meet in broken or hostile exports.
HOSTILE_JSON = (
    "null",
    "true",
    "0",
    "-1",
    "1.5",
    "1e309",  # parses as infinity
    "NaN",
    "-Infinity",
    "1" + "0" * 5000,  # more digits than Python converts by default
    "[]",
    "{}",
    '""',
    '"\\ud800"',  # a lone surrogate: not encodable as UTF-8
    '"\\u0000"',
    '"²"',  # a digit to str.isdigit, not to int()
    '"--5"',
    '"99999999999999999999999"',
    '"0001-01-01T00:00:00+05:00"',
    '"9999-12-31T23:59:59-05:00"',
    '"2024-13-45"',
    '"' + "x" * 100_000 + '"',
    "[" * 900 + "]" * 900,  # deep, yet within what json reads
    '{"a":' * 900 + "1" + "}" * 900,
)

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_DELETE = object()


def byte_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """`data` cut, flipped, with junk inserted, or with a run deleted or duplicated."""
    size = len(data)
    position = st.integers(0, size)
    junk = st.binary(min_size=1, max_size=64) | st.sampled_from(HOSTILE_BYTES)
    return st.one_of(
        position.map(lambda i: data[:i]),
        st.lists(
            st.tuples(st.integers(0, max(size - 1, 0)), st.integers(1, 255)), min_size=1, max_size=8
        ).map(lambda flips: _flipped(data, flips)),
        st.tuples(position, junk).map(lambda p: data[: p[0]] + p[1] + data[p[0] :]),
        st.tuples(position, st.integers(1, 512)).map(lambda p: data[: p[0]] + data[p[0] + p[1] :]),
        st.tuples(position, st.integers(1, 512)).map(
            lambda p: data[: p[0]] + data[p[0] : p[0] + p[1]] * 3 + data[p[0] :]
        ),
    )


def json_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """The JSON document `data` with hostile values: in one to three places, or under
    one key wherever it occurs (every message's `type`), or keys removed."""
    tree = json.loads(data)
    paths = _paths(tree)
    keys = sorted({path[-1] for path in paths if isinstance(path[-1], str)})
    replacement = st.sampled_from(HOSTILE_JSON) | _JSON_VALUES.map(json.dumps) | st.just(_DELETE)
    in_places = st.lists(st.tuples(st.sampled_from(paths), replacement), min_size=1, max_size=3)
    under_key = st.tuples(st.sampled_from(keys), replacement).map(
        lambda edit: [(path, edit[1]) for path in paths if path[-1] == edit[0]]
    )
    edits = in_places | under_key if keys else in_places
    return edits.map(lambda chosen: _edited(tree, chosen).encode())


# Every field of a seed gets each of these in turn (see `wrong_types`).
WRONG_TYPES = (
    "null",
    "[]",
    "{}",
    "[[]]",
    "0",
    "-1.5",
    "true",
    '"x"',
    '"\\ud800"',
    "[" * 900 + "]" * 900,
)


def wrong_types(data: bytes) -> Iterator[bytes]:
    """The JSON document `data` with each key, wherever it occurs, given each wrong type
    of `WRONG_TYPES` or removed: systematic where `json_mutations` samples."""
    tree = json.loads(data)
    paths = _paths(tree)
    for key in sorted({path[-1] for path in paths if isinstance(path[-1], str)}):
        places = [path for path in paths if path[-1] == key]
        for replacement in (*WRONG_TYPES, _DELETE):
            yield _edited(tree, [(path, replacement) for path in places]).encode()


def jsonl_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """A JSON Lines file with one line's object mutated as JSON, or its bytes broken."""
    lines = data.split(b"\n")
    one_line = st.integers(0, len(lines) - 1).flatmap(
        lambda i: json_mutations(lines[i]).map(
            lambda line: b"\n".join([*lines[:i], line.replace(b"\n", b" "), *lines[i + 1 :]])
        )
    )
    return one_line | byte_mutations(data)


def file_mutations(name: str, data: bytes) -> st.SearchStrategy[bytes]:
    """The ways to break one file, chosen by its format."""
    if name.endswith(".json"):
        return json_mutations(data) | byte_mutations(data)
    if name.endswith(".jsonl"):
        return jsonl_mutations(data)
    return byte_mutations(data)


def broken_sources(seed: Seed) -> st.SearchStrategy[dict[str, bytes]]:
    """The seed's files with one of them broken, or (for an export of several) missing."""
    names = sorted(seed.files)
    options = [
        file_mutations(name, seed.files[name]).map(
            lambda data, name=name: {**seed.files, name: data}
        )
        for name in names
    ]
    if len(names) > 1:
        options.append(
            st.sampled_from(names).map(
                lambda gone: {k: v for k, v in seed.files.items() if k != gone}
            )
        )
    return st.one_of(options)


# Member names that must never be written, or read as if they were inside the archive.
ESCAPING_NAMES = (
    "../../evil.txt",
    "/tmp/copqa-fuzz-evil.txt",
    "a/../../evil.txt",
    "C:/evil.txt",
    "..\\evil.txt",
)


def broken_zips(files: dict[str, bytes], folder: str) -> st.SearchStrategy[bytes]:
    """A zip of an export with one file broken or missing, a member escaping the archive,
    or the archive's own bytes broken."""
    seed = Seed(files, "")
    whole = zipped(files, folder)
    return st.one_of(
        broken_sources(seed).map(lambda broken: zipped(broken, folder)),
        st.sampled_from(ESCAPING_NAMES).map(lambda name: zipped({**files, name: b"owned"}, folder)),
        byte_mutations(whole),
    )


def _flipped(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    if not data:
        return data
    buffer = bytearray(data)
    for index, mask in flips:
        buffer[index % len(buffer)] ^= mask
    return bytes(buffer)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree a value sits, the root excluded."""
    found = []
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        found.append((*path, key))
        found.extend(_paths(child, (*path, key)))
    return found


def _edited(tree: Any, edits: list[tuple[tuple[Any, ...], Any]]) -> str:
    """The tree as JSON text with each path's value replaced by raw JSON text (or removed)."""
    tree = copy.deepcopy(tree)
    fragments = {}
    for number, (path, replacement) in enumerate(edits):
        parent = tree
        try:
            for key in path[:-1]:
                parent = parent[key]
            if replacement is _DELETE:
                del parent[path[-1]]
                continue
            marker = f"@@fuzz{number}@@"
            parent[path[-1]] = marker
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this place
        fragments[json.dumps(marker)] = replacement
    text = json.dumps(tree)
    for marker, replacement in fragments.items():
        text = text.replace(marker, replacement)
    return text
