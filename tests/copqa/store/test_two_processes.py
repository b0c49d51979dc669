"""Two processes on one COPQA_HOME: the page answers while `copqa` ingests, deletes, backs up.

The page's process searches an embedded Chroma index it loaded into memory; what another
process writes reaches the files, and the page must see it (and stop citing what was
deleted) as soon as that process returns.
"""

from __future__ import annotations

import threading
from pathlib import Path

from gradio_client import Client

from copqa.store.maintenance import read_manifest
from copqa.store.store import Store
from eval.bench.app_server import running_app
from tests.support.cli import run_copqa
from tests.support.files import write_files
from tests.support.paths import SAMPLE

KILN = "How hot is the ceramics kiln fired, and on which day?"
LASER = "Can I cut PVC on the laser cutter?"
NOTES = {
    f"notes/shelf-{i}.md": f"# Shelf {i}\n\nShelf {i} of the store room holds the spare parts "
    f"of machine {i}; ask the shop steward before taking any."
    for i in range(10)
}
NOTES["notes/kiln.md"] = (
    "# Ceramics kiln\n\nThe ceramics kiln is fired on Thursdays to 1,240 °C (cone 6). "
    "Load your pieces on the kiln shelf by Wednesday evening."
)


def cited_files(client: Client, question: str) -> list[str]:
    """The files or channels the answer's source cards name."""
    chat, _, sources = client.predict(question, [], api_name="/ask")
    assert chat[-1]["role"] == "assistant"
    return [part for part in ("laser-cutter-safety.md", "kiln.md") if part in sources]


def test_the_page_follows_another_process_ingesting_and_deleting(tmp_path: Path, embedder) -> None:
    home = tmp_path / "home"
    home.mkdir()
    notes = write_files(tmp_path / "more", NOTES) / "notes"
    laser = (SAMPLE / "docs/laser-cutter-safety.md").resolve()
    errors: list[str] = []
    asked = 0
    stop = threading.Event()

    with running_app(home) as url:  # its first start ingests the sample

        def keep_asking() -> None:
            nonlocal asked
            client = Client(url, verbose=False)
            while not stop.is_set():
                try:
                    cited_files(client, LASER)
                    asked += 1
                except Exception as exc:  # every failure is collected and reported
                    errors.append(repr(exc))

        askers = [threading.Thread(target=keep_asking, daemon=True) for _ in range(2)]
        for asker in askers:
            asker.start()
        try:
            client = Client(url, verbose=False)
            assert "laser-cutter-safety.md" in cited_files(client, LASER)
            assert "kiln.md" not in cited_files(client, KILN)

            ingested = run_copqa(home, "ingest", str(notes))
            assert ingested.returncode == 0, ingested.stderr
            assert "kiln.md" in cited_files(client, KILN)  # written by another process

            deleted = run_copqa(home, "sources", "delete", str(laser))
            assert deleted.returncode == 0, deleted.stderr
            for _ in range(3):
                assert "laser-cutter-safety.md" not in cited_files(client, LASER)

            copied = run_copqa(home, "backup", str(tmp_path / "backup"))  # the page still up
            assert copied.returncode == 0, copied.stderr
        finally:
            stop.set()
            for asker in askers:
                asker.join(timeout=120)

    print(f"\n{asked} questions answered by the page while two other processes wrote")
    assert errors == []
    assert asked > 0
    store = Store(home, embedder.identity, embedder.dimension)
    try:
        assert store.vector_ids() == store.chunk_ids()
        backed_up = read_manifest(tmp_path / "backup")
        assert backed_up.vectors == backed_up.rows["chunks"] == len(store.chunk_ids())
    finally:
        store.close()
