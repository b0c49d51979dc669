"""The layout of `COPQA_HOME`: every file and folder copqa keeps there, named once.

A backup (copqa/store/maintenance.py) copies the catalog and the uploads, and restores them to
the same names; everything else here is rebuilt from them or from the sources.
"""

from __future__ import annotations

CATALOG = "catalog.sqlite3"  # sources, documents, posts, chunks (SQLite, unless PostgreSQL)
INGEST_LOCK = "ingest.lock"  # one writer at a time
VECTORS = "chroma"  # the embedded Chroma store
KEYWORD_INDEX = "keyword"  # BM25, rebuilt when the catalog changes
UPLOADS = "uploads"  # files members uploaded through the page
MODELS = "models"  # converted embedding models (ONNX)
CALIBRATION = "calibration.json"  # `copqa tune --abstention`
CALIBRATION_CURVE = "calibration-curve.json"  # the curve its threshold was chosen from
RERANKER = "reranker.json"  # trained by `copqa ingest` and `copqa tune`
PAGE_CACHE = "page-cache"  # Gradio's copies of uploads, one folder per page process
EVALUATIONS = "eval"  # `copqa eval` reports, when no --out is given
