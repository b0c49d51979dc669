"""Shared fixtures: real data beside the checkout, and an offline environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.accounts import MAINTAINER, MEMBER, OTHER_MEMBER
from tests.support.paths import MISSING_SHARED, SAMPLE, SHARED, SHARED_DATA

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ[_name] = _value


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real community exports in ../shared/data (read-only: never write there).

    Without them a test is skipped, so a fresh clone on its own still tests the rest; in CI
    (`CI=true`) they must be there, and a test that needs them fails.
    """
    if not (SHARED_DATA.is_dir() and (SHARED / "eval").is_dir()):
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(MISSING_SHARED)
        pytest.skip(MISSING_SHARED)
    return SHARED_DATA


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Report every skip for missing real data from one place, so the summary folds them
    into one line, instead of one line per test."""
    report = yield
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and longrepr[2].endswith(MISSING_SHARED):
        report.longrepr = (__file__, None, longrepr[2])
    return report


@pytest.fixture(scope="session")
def embedder():
    """The real packaged model, loaded once for the whole run."""
    from copqa.embedding.embedder import Embedder
    from copqa.settings import EmbeddingSettings

    return Embedder(EmbeddingSettings().resolved_model_path())


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL on loopback for the whole run (started on first use); yields its URL."""
    from tests.support.postgres_server import running_postgres

    with running_postgres() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path):
    from copqa.settings import Settings

    return Settings(home=tmp_path / "home")


@pytest.fixture
def store(settings, embedder):
    from copqa.store.store import Store

    opened = Store(settings.home, embedder.identity, embedder.dimension)
    yield opened
    opened.close()


@pytest.fixture
def records(settings):
    """The community's accounts and activity log in the test's home."""
    from copqa.community import CommunityRecords

    with CommunityRecords.open(settings) as opened:
        yield opened


@pytest.fixture
def pipeline(settings, store, embedder, records):
    """The pipeline `copqa ingest` builds, recording its runs in `records`."""
    from ingest.factory import build_pipeline

    return build_pipeline(settings, store, embedder, records.activity)


XSS_POST = (
    "# Workshop notice board\n\n"
    "Mallory posted this notice about the soldering station fume extractor: "
    "<script>document.title='pwned'</script> "
    "<img src=x onerror=\"document.body.dataset.pwned='1'\"> "
    "[see the extractor manual](javascript:document.body.dataset.pwned='2') "
    "and the extractor filter is changed every March.\n"
)


@pytest.fixture(scope="session")
def app_home(tmp_path_factory) -> Path:
    """A home holding the sample community, a post full of markup, and three accounts."""
    from tests.support.cli import run_copqa

    home = tmp_path_factory.mktemp("page-home")
    notices = home.parent / "notices"
    notices.mkdir()
    (notices / "notice-board.md").write_text(XSS_POST, encoding="utf-8")
    sample = SAMPLE
    ingested = run_copqa(home, "ingest", str(sample / "docs"), str(sample / "slack"), str(notices))
    assert ingested.returncode == 0, ingested.stderr
    for name, role, password in (MAINTAINER, MEMBER, OTHER_MEMBER):
        added = run_copqa(
            home, "members", "add", name, "--role", role, "--password-stdin", stdin=password + "\n"
        )
        assert added.returncode == 0, added.stderr
    return home


@pytest.fixture(scope="session")
def app_url(app_home: Path):
    """The page served by a real `python app.py` on loopback, shared by the page's tests."""
    from eval.bench.app_server import running_app

    with running_app(app_home) as url:
        yield url


@pytest.fixture(scope="session")
def closed_app_url(tmp_path_factory) -> Iterator[str]:
    """A second page, closed to guests (COPQA_APP__ALLOW_ANONYMOUS=false), with the sample
    ingested on first start and a member and a maintainer account."""
    from eval.bench.app_server import running_app
    from tests.support.cli import run_copqa

    home = tmp_path_factory.mktemp("closed-home")
    for name, role, password in (MAINTAINER, MEMBER):
        added = run_copqa(
            home, "members", "add", name, "--role", role, "--password-stdin", stdin=password + "\n"
        )
        assert added.returncode == 0, added.stderr
    with running_app(home, {"COPQA_APP__ALLOW_ANONYMOUS": "false"}) as url:
        yield url
