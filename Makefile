# The two commands of the README: `make demo` (the main job end to end on synthetic data)
# and `make test` (creates the environment from nothing and runs the suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: venv test test-all demo clean-venv

$(VENV)/.installed: requirements.txt requirements-test.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt -r requirements-test.txt
	$(PY) -m pip install --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# The suite is mostly single-threaded Python (tracing), so two pytest-xdist workers halve its time
# on 2 cores (measured: 8:20 -> 5:00); each worker builds its own session fixtures.
TEST_WORKERS ?= 2

test: venv
	$(PY) -m pytest -q -n $(TEST_WORKERS) --durations=10

test-all: venv
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m ''

# MODELS=tpgan,drgan (a comma-separated subset; default: every model)
demo: venv
	$(PY) -m experiments.run_demo --workdir=runs/demo $(if $(MODELS),--models=$(MODELS))

clean-venv:
	rm -rf $(VENV)
