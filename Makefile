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

test-thorough: $(STAMP)
	FNX_HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
