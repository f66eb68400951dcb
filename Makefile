# Two entry points: `make demo` (set up, then run the main job) and `make test`.
# Both create .venv on first use and are safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLAMA_CPP := llama-cpp-python==0.3.35
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AMX=OFF

TYPECHECK := build/typecheck

.PHONY: demo test test-fast lint typecheck bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# llama-cpp-python compiles once (several minutes on 2 cores); pip caches the wheel. It is built
	# portable (no -march=native): a native build's AMX kernels crash on CPUs that have AMX.
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc 2>/dev/null || echo 2) \
		$(BIN)/python -m pip install --quiet '$(LLAMA_CPP)'
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check core connectors plugins hosts examples tests bench
	$(BIN)/ruff format --check core

# mypy checks core/, connectors/ and plugins/ (hosts/ too when present) as the installed
# `dualtrack` package: a tree of links mirrors setuptools' package-dir mapping.
typecheck: $(STAMP)
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/dualtrack
	for f in core/*; do ln -s "$$PWD/$$f" $(TYPECHECK)/dualtrack/; done
	for d in connectors plugins hosts; do if [ -d $$d ]; then ln -s "$$PWD/$$d" $(TYPECHECK)/dualtrack/$$d; fi; done
	MYPYPATH=$(TYPECHECK) $(BIN)/mypy -p dualtrack

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

# the fast suite: no sandboxes, LibreOffice, llama.cpp models, fault injection or fresh venvs
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/routing.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
