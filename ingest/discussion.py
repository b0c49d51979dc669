"""What discussion loaders share: thread titles from opening posts, JSON files with reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TITLE_CHARS = 80


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
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ValueError(f"unreadable: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON: {exc}") from exc
