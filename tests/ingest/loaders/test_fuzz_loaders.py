"""Every loader fuzzed from a small valid source: broken input is a failure, never a crash.

For each loader, hypothesis breaks a valid source of its format (see `fuzz_strategies`)
and the loader, and the finder with every loader as ingestion uses them, must end in
documents and/or per-file `LoadFailure`s within a hard time bound, writing nothing
(see `fuzz_harness.check_source`). The examples are derandomized: every run, CI's
included, tries the same cases; `COPQA_FUZZ_EXAMPLES` raises their number.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copqa.models import Document
from copqa.settings import SourceLinkSettings
from ingest.loaders.base import Loader
from ingest.loaders.registry import all_loaders
from tests.support.fuzz_harness import CASES, FUZZ, case_folder, check_source
from tests.support.fuzz_seeds import SEEDS, SLACK_FILES, write_seed
from tests.support.fuzz_strategies import broken_sources, broken_zips, wrong_types

LOADERS = {loader.kind: loader for loader in all_loaders(SourceLinkSettings())}


@pytest.fixture(scope="module", autouse=True)
def report_cases(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many fuzz cases each loader ran, at the end of the module."""
    yield
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(CASES.items()))
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nfuzz cases run per loader: {counts} ({sum(CASES.values())} in all)"
            )


def _load_broken(kind: str, loader: Loader, files: dict[str, bytes]) -> None:
    seed = SEEDS[kind]
    with case_folder(kind) as root:
        write_seed(root, files)
        check_source(loader, root / seed.source, root)


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_seed_is_valid(kind: str) -> None:
    """Each seed loads into documents: the fuzzer starts from input that works."""
    loader = LOADERS[kind.removesuffix("-zip")]
    with case_folder(kind) as root:
        write_seed(root, SEEDS[kind].files)
        items = check_source(loader, root / SEEDS[kind].source, root)
    assert [i for i in items if isinstance(i, Document)], items


@pytest.mark.parametrize("kind", sorted(k for k in SEEDS if k != "slack-zip"))
def test_broken_source_ends_in_documents_or_failures(kind: str) -> None:
    loader = LOADERS[kind]

    @FUZZ
    @given(files=broken_sources(SEEDS[kind]))
    def run(files: dict[str, bytes]) -> None:
        _load_broken(kind, loader, files)

    run()


@pytest.mark.parametrize("kind", ["discord", "discourse", "jsonl", "slack", "zulip"])
def test_every_json_field_with_every_wrong_type(kind: str) -> None:
    """Each key of each JSON file of the seed, wherever it occurs, set to null, a list,
    an object, a number, a bool, a lone surrogate, deep nesting, or removed."""
    loader, seed = LOADERS[kind], SEEDS[kind]
    for name, data in seed.files.items():
        if not name.endswith((".json", ".jsonl")):
            continue
        lines = data.split(b"\n") if name.endswith(".jsonl") else [data]
        for number, line in enumerate(lines):
            for variant in wrong_types(line):
                broken = b"\n".join([*lines[:number], variant, *lines[number + 1 :]])
                _load_broken(kind, loader, {**seed.files, name: broken})


@FUZZ
@given(archive=broken_zips(SLACK_FILES, "workspace"))
def test_broken_slack_zip_ends_in_documents_or_failures(archive: bytes) -> None:
    _load_broken("slack-zip", LOADERS["slack"], {"export.zip": archive})


@FUZZ
@given(
    data=st.binary(max_size=4096),
    suffix=st.sampled_from(
        sorted({".pdf", ".json", ".jsonl", ".mbox", ".txt", ".html", ".md", ".zip"})
    ),
)
def test_random_bytes_under_any_name(data: bytes, suffix: str) -> None:
    """Whatever a file's name promises, random bytes in it are one failure or a document."""
    with case_folder("random") as root:
        path = root / f"upload{suffix}"
        path.write_bytes(data)
        for loader in LOADERS.values():
            if loader.detect(path):
                check_source(loader, path, root)
                break
        else:
            check_source(LOADERS["text"], path, root)
