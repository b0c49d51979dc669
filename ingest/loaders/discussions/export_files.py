"""What discussion loaders share: thread titles from opening posts, JSON files with reasons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

TITLE_CHARS = 80
# A `\uD800`-`\uDFFF` escape: JSON allows a lone one, UTF-8 (and so every id) does not.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def opening_line(text: str, limit: int = TITLE_CHARS) -> str:
    """A thread's title from its first post: the first line, cut at a word near `limit`."""
    lines = text.strip().splitlines()
    line = lines[0].strip() if lines else ""
    if len(line) <= limit:
        return line
    cut = line[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + "…"


def read_json_file(path: Path) -> Any:
    """A JSON file's value; ValueError with a one-line reason when it cannot be had."""
    try:
        return loads_json(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ValueError(f"unreadable: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from exc
    except ValueError as exc:
        raise ValueError(f"malformed JSON: {exc}") from exc


def loads_json(document: str | bytes) -> Any:
    """`json.loads`, made safe for hostile input: every failure is a `ValueError`.

    A document nested too deeply for the parser (`[[[[...`) is a `ValueError` rather
    than a `RecursionError`, and lone surrogates (`"\\ud800"`, which JSON allows) come
    back as U+FFFD, so that every string of the value can be encoded, hashed and stored.

    Raises:
        ValueError: Malformed JSON (`json.JSONDecodeError`), bytes that are not UTF-8
            (`UnicodeDecodeError`), too deep, or a number too long to convert.
    """
    if isinstance(document, bytes):
        # Strictly: json.loads would let UTF-8-encoded surrogates through.
        document = document.decode(json.detect_encoding(document))
    try:
        value = json.loads(document)
    except RecursionError as exc:
        raise ValueError("nested too deeply to read") from exc
    if not _SURROGATE_ESCAPE.search(document):
        return value
    try:
        return _without_surrogates(value)
    except RecursionError as exc:
        raise ValueError("nested too deeply to read") from exc


def _without_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value
