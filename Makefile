# Two commands do everything on a fresh machine with Python 3.10+:
#   make lab    - create .venv (first time), install tinynn with the notebook extras, open the book
#   make test   - the same environment plus the test tools, then the whole test suite (book included)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The test suite validates the chapters at "ci" size (small data, few epochs); the book itself is full size.
TINYNN_BOOK_SIZE ?= ci
export TINYNN_BOOK_SIZE

.PHONY: lab test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[notebook,dev]'
	touch $@

install: $(VENV)/.installed

# (root, e.g. in a container, needs --allow-root; JUPYTER_ARGS passes more, e.g. JUPYTER_ARGS=--no-browser)
lab: $(VENV)/.installed
	TINYNN_BOOK_SIZE=full $(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(JUPYTER_ARGS) chapters/

# One BLAS thread: the book's matrices are small, and on 2 cores a second thread mostly spins (measured: the
# LSTM chapter ran up to 10x slower with two).
test: $(VENV)/.installed
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest tests chapters --nbval-lax --sanitize-with chapters/sanitize.cfg -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache
