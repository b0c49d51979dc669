"""Small real files for tests, written where a test says."""

from __future__ import annotations

from pathlib import Path


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Create small real files under `folder` and return it."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder
