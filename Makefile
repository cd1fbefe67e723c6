# Fresh machine: `make test` or `make demo` creates .venv, installs bionn with its extras, runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch 2.14.1 / torchvision 0.29.1: the pair whose wheels install together from this index.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed

# `make demo` needs only PyTorch and the experiments extra: its own, smaller venv.
DEMO_VENV ?= .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed

.PHONY: install test test-fast test-slow test-keras-without-torch demo lint bench docs clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH_PINS)
	$(BIN)/pip install -q -e ".[dev,torch,keras,keras-backends,experiments,fid,docs]"
	touch $(STAMP)

install: $(STAMP)

# The Keras tests run once per Keras backend, each in its own process (the backend is fixed
# at import); the main run leaves them out.
KERAS_BACKENDS := torch tensorflow jax

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict -q
	$(BIN)/python -m pytest -q -m "not keras and not slow"
	for backend in $(KERAS_BACKENDS); do \
		KERAS_BACKEND=$$backend $(BIN)/python -m pytest -q -m keras tests/keras || exit 1; \
	done
	$(MAKE) test-keras-without-torch

# A fresh venv with bionn[keras] and JAX from the package index, no torch: the original Keras
# README example must run there (a minute or two; the venv is deleted afterwards).
test-keras-without-torch:
	PYTHON=$(PYTHON) .ci/keras_without_torch.sh

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# The long runs (torch.compile of the paper models, 5,000-file FID, the demo end to end,
# conversion coverage, killed-run resume): tens of minutes on a 2-core CPU, not part of CI.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow and not keras"

$(DEMO_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install -q --upgrade pip
	$(DEMO_VENV)/bin/pip install -q $(TORCH_PINS)
	$(DEMO_VENV)/bin/pip install -q -e ".[experiments]"
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	@echo "demo environment $(DEMO_VENV): $$(du -sh $(DEMO_VENV) | cut -f1) (PyTorch and the experiments extra; no TensorFlow, no JAX)"
	$(DEMO_VENV)/bin/python -m bionn.demo

bench: $(STAMP)
	for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

# The API reference from the docstrings (mkdocs.yml): any warning fails; the pages go to site/.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_VENV) build dist site src/*.egg-info
