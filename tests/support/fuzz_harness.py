"""Running a loader on hostile input with a hard time bound, and the property it must keep.

The property, for any input: the source finder and the loader end, within
`CASE_SECONDS`, in documents and/or `LoadFailure`s; every failure names a file of the
input and says why in one line; every document can be hashed as the pipeline hashes it;
nothing is written anywhere (a loader only reads).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, settings

from copqa.models import Document, LoadFailure
from copqa.settings import SourceLinkSettings
from ingest.loaders.base import Loader
from ingest.loaders.registry import all_loaders
from ingest.sources import SourceFinder, fingerprint

# Generous for 2 slow shared cores: a healthy case takes well under a second.
CASE_SECONDS = float(os.environ.get("COPQA_FUZZ_CASE_SECONDS", "20"))
# Examples per loader; raise it for a longer local hunt (COPQA_FUZZ_EXAMPLES=2000).
EXAMPLES = int(os.environ.get("COPQA_FUZZ_EXAMPLES", "50"))

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run, so CI is reproducible
    database=None,  # nothing written into the checkout
    # The hard bound is CASE_SECONDS; hypothesis' own deadline would flake on busy cores.
    deadline=None,
    # Seeds of a few KB, mutated, are what we mean to generate.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CASES: Counter[str] = Counter()
"""Fuzz cases run, by loader kind (printed at the end of the fuzz modules)."""

T = TypeVar("T")


class Hang(AssertionError):
    """A loader or the finder did not finish within `CASE_SECONDS`."""


def bounded(work: Callable[[], T], what: str, seconds: float = CASE_SECONDS) -> T:
    """`work()`'s result, its exception re-raised here, or `Hang` after `seconds`.

    The work runs in a daemon thread, so a hang fails the test instead of the run.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"fuzz {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise Hang(f"{what}: still running after {seconds:.0f} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


@contextmanager
def case_folder(kind: str) -> Iterator[Path]:
    """A fresh folder for one case's input, checked afterwards for anything written.

    The working directory moves to an empty folder beside it for the case, so that a
    relative write (a zip member `../../evil`) would be seen too.
    """
    base = Path(tempfile.mkdtemp(prefix=f"copqa-fuzz-{kind}-"))
    inputs, cwd = base / "in" / "case", base / "cwd"
    inputs.mkdir(parents=True)
    cwd.mkdir()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        yield inputs
    finally:
        os.chdir(previous)
        escaped = sorted(
            str(p)
            for p in base.rglob("*")
            if not p.is_relative_to(inputs) and p not in (inputs.parent, cwd)
        )
        shutil.rmtree(base, ignore_errors=True)
    assert not escaped, f"written outside the input: {escaped}"
    assert not Path("/tmp/copqa-fuzz-evil.txt").exists()


def check_source(loader: Loader, source: Path, root: Path) -> list[Document | LoadFailure]:
    """Load `source` directly and through the finder (as ingestion does); assert the property."""
    CASES[loader.kind] += 1
    before = _tree(root)
    items = bounded(lambda: list(loader.load(source)), f"{loader.kind}.load({source.name})")
    items += bounded(lambda: list(ingestion_reads(source)), f"finding and loading {source.name}")
    for item in items:
        _check_item(item, root)
    assert _tree(root) == before, "a loader changed its input"
    return items


def ingestion_reads(path: Path) -> Iterator[Document | LoadFailure]:
    """What `IngestPipeline.ingest` reads from a path, short of chunking and storing."""
    for found in SourceFinder(all_loaders(SourceLinkSettings())).find(path):
        if isinstance(found, LoadFailure):
            yield found
            continue
        fingerprint(found.path)
        yield from found.loader.load(found.path)


def _check_item(item: object, root: Path) -> None:
    assert isinstance(item, Document | LoadFailure), f"a loader yielded {item!r}"
    if isinstance(item, LoadFailure):
        assert item.path.startswith(str(root)), f"failure names no file of the input: {item}"
        assert item.error.strip(), f"failure without a reason: {item}"
        assert "\n" not in item.error, f"reason of more than one line: {item.error!r}"
        return
    item.content_hash()  # what the pipeline does first with every document; must not raise
    assert item.path.startswith(str(root)), f"document of no input file: {item.path}"
    assert item.sections or item.posts, f"empty document: {item.id}"


def _tree(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for p in sorted(root.rglob("*"))}
