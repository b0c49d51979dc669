"""Where the checkout, its sample community and the shared real data are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample"
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
# One reason for every test that needs the real exports, so pytest's summary gives it once.
MISSING_SHARED = (
    f"real test data missing: put the shared folder (data/ and eval/) at {SHARED}, "
    "beside this checkout, to run the tests that read real exports"
)
