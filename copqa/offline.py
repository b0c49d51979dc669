"""copqa never reaches a model hub or an analytics host: these variables make sure of it."""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}


def enforce_offline() -> None:
    """Set the offline variables before any library that reads them is imported."""
    os.environ.update(OFFLINE_ENVIRONMENT)
