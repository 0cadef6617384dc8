# The two commands of the quick start: `make demo` and `make test`. Each creates
# .venv when it is absent and installs fnx with what the target needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fnx-installed

.PHONY: demo test test-thorough bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,examples]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/digits_mlp.py

test: $(STAMP)
	$(BIN)/python -m pytest

# Checks that fnx, the hand-written numpy floor and the peers (torch, jax, when installed) agree, then
# times them side by side and writes bench/RESULTS.md. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE, which this
# environment may set for older OpenBLAS builds, would make numpy pick slower kernels: unset here only.
bench: $(VENV)/.fnx-bench-installed
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m bench $(BENCH_ARGS)

$(VENV)/.fnx-bench-installed: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	touch $@

test-thorough: $(STAMP)
	FNX_HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
