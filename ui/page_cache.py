"""The page server's own file cache: a folder per process under COPQA_HOME, never shared.

Gradio keeps every file sent to the page (and every file it hands out) in its cache and
serves it at `/gradio_api/file=...` while it is there. By default that is one folder in
the system's temp directory, shared by every Gradio app and kept across restarts. The
page's own folder is emptied when the page starts and removed when it stops; folders
left by a page that was killed are removed by the next start. No Gradio here: this
runs before Gradio is imported, as Gradio reads `GRADIO_TEMP_DIR` on import.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
from pathlib import Path

from copqa import home as layout


def own_page_cache(home: Path) -> Path:
    """This process's cache folder, empty, and removed again when the process exits."""
    root = home.resolve() / layout.PAGE_CACHE
    if root.is_dir():
        for folder in root.iterdir():
            # Another page serving the same home (a replica) keeps its folder.
            if not (folder.name.isdigit() and _running(int(folder.name))):
                shutil.rmtree(folder, ignore_errors=True)
    mine = root / str(os.getpid())
    shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir(parents=True)
    atexit.register(shutil.rmtree, mine, ignore_errors=True)
    return mine


def discard(paths: list[str], cache: Path) -> None:
    """Remove files Gradio received into `cache` (and their folders), once they are handled."""
    for given in paths:
        path = Path(given).resolve()
        if cache.resolve() not in path.parents:
            continue  # not a copy of Gradio's: never touched
        path.unlink(missing_ok=True)
        # Uploads sit in <cache>/<content hash>/<name>; a folder still holding a file is kept.
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process's folder from before is stale: start it empty
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
