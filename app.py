"""The chat page: `python app.py` serves the community's assistant on http://127.0.0.1:7860.

On first start with an empty store it ingests the sample community shipped in `sample/`
(set COPQA_SAMPLE= to start empty). Gradio only: the page is built in `ui/`, every
answer comes from `copqa`.
"""

from __future__ import annotations

import os
from pathlib import Path

from copqa.offline import enforce_offline

enforce_offline()

from copqa.settings import Settings  # noqa: E402  (after the offline variables)
from ui.page_cache import own_page_cache  # noqa: E402

# Before Gradio is imported: it reads its cache folder once, on import.
os.environ["GRADIO_TEMP_DIR"] = str(own_page_cache(Settings().home))

from copqa.assistant import Assistant  # noqa: E402
from ui.page import build_page  # noqa: E402
from ui.render import CSS  # noqa: E402
from ui.server_errors import EXCEPTION_HANDLERS  # noqa: E402
from ui.services import PageServices  # noqa: E402

SAMPLE = Path(__file__).resolve().parent / "sample"


def main() -> None:
    settings = Settings()
    services = PageServices.open(settings, Assistant.from_settings(settings))
    sample = os.environ.get("COPQA_SAMPLE", str(SAMPLE))
    if sample and services.assistant.store.counts().chunks == 0:
        print(f"First start: ingesting the sample community from {sample} ...", flush=True)
        report = services.pipeline.ingest([Path(sample) / "docs", Path(sample) / "slack"])
        print(
            f"  {report.added} documents, {report.chunks} chunks in {report.seconds:.0f} s",
            flush=True,
        )
    page = build_page(services)
    page.queue(
        default_concurrency_limit=settings.app.ask_concurrency, max_size=settings.app.max_queue
    ).launch(
        server_name=os.environ.get("COPQA_HOST", "127.0.0.1"),
        server_port=int(os.environ.get("COPQA_PORT", "7860")),
        max_file_size=f"{settings.app.max_upload_mb:g}mb",
        footer_links=["gradio"],
        css=CSS,
        # Gradio's traffic dashboard is open to anyone and prints its key into the log.
        enable_monitoring=False,
        app_kwargs={"exception_handlers": EXCEPTION_HANDLERS},
    )


if __name__ == "__main__":
    main()
