# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv when missing, installs the pinned stack, runs the main job
#   make test   the same, then runs the test suite
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Real data for tests and demos: ../shared/data when it is there, unless already set.
SHARED_DATA := $(abspath ../shared/data)
ifeq ($(origin TFRS_MTL_DATA_DIR), undefined)
  ifneq ($(wildcard $(SHARED_DATA)/ml-100k),)
    export TFRS_MTL_DATA_DIR := $(SHARED_DATA)
  endif
endif
export TF_USE_LEGACY_KERAS := 1

.PHONY: demo test test-slow test-notebooks test-beam lint install

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tfrs-mtl quickstart --dataset movielens-100k --out runs/quickstart

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

# The notebooks, executed top to bottom with small settings.
test-notebooks: $(STAMP)
	TFRS_MTL_NOTEBOOK_SMALL=1 $(PY) -m pytest -m notebook

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Apache Beam pins protobuf<7 and pyarrow<26: its tests run in a venv of their own (docs/beam.md).
BEAM_VENV ?= .venv-beam
BEAM_PY := $(BEAM_VENV)/bin/python
BEAM_STAMP := $(BEAM_VENV)/.installed-stamp

$(BEAM_STAMP): setup.cfg pyproject.toml
	test -x $(BEAM_PY) || $(PYTHON) -m venv $(BEAM_VENV)
	$(BEAM_PY) -m pip install --quiet --upgrade pip
	$(BEAM_PY) -m pip install --quiet -e '.[dev,beam]'
	touch $(BEAM_STAMP)

test-beam: $(BEAM_STAMP)
	$(BEAM_PY) -m pytest tests/test_beam_pipeline.py tests/test_export.py tests/test_recommender.py
