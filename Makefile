# Everything on a fresh machine with Python 3.10+ (see the README):
#   make lab    - create .venv (first time), install tinynn, open the book's working copies in JupyterLab
#   make test   - the same environment plus the test tools, then the whole test suite (book included)
#   make book   - the HTML book in _build/html (jupyter-book 1.x, offline, from the stored outputs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# `make lab` runs the chapters at full size unless you say otherwise (TINYNN_BOOK_SIZE=ci make lab);
# the test suite validates them at the small "ci" size.
ifeq ($(origin TINYNN_BOOK_SIZE),undefined)
LAB_SIZE := full
else
LAB_SIZE := $(TINYNN_BOOK_SIZE)
endif
TINYNN_BOOK_SIZE ?= ci
export TINYNN_BOOK_SIZE

.PHONY: lab test install book clean chapter-outputs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[notebook,dev,book]'
	touch $@

install: $(VENV)/.installed

# JupyterLab opens the working copies in my-chapters/ (created on first use, never overwritten when you
# edited them): the shipped chapters/ are not even listed, so reading or running a chapter never changes
# them. The server's root is this folder, so the README and the library's source are one click away.
# (Root needs --allow-root; JUPYTER_ARGS passes more, e.g. JUPYTER_ARGS=--no-browser.)
LAB_HIDE := ['__pycache__', '*.pyc', '*.egg-info', 'chapters', '_build', 'build', 'test-artifacts']
lab: $(VENV)/.installed
	$(BIN)/tinynn-book sync
	TINYNN_BOOK_SIZE=$(LAB_SIZE) $(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) \
	  --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/my-chapters \
	  --ContentsManager.hide_globs="$(LAB_HIDE)" $(JUPYTER_ARGS)

# One BLAS thread: the book's matrices are small, and on 2 cores a second thread mostly spins (measured: the
# LSTM chapter ran up to 10x slower with two). Only the chapters book.yml lists are run by nbval (a student
# copy or a working copy elsewhere is never collected).
test: $(VENV)/.installed
	chapters="$$($(BIN)/tinynn-book list --paths)" && test -n "$$chapters" && \
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest tests \
	  $$chapters --nbval-lax --nbval-sanitize-with chapters/sanitize.cfg -p no:cacheprovider

# The HTML book: only the files of book.yml, their stored outputs (no execution), MathJax from the build
# itself; any warning fails the build.
book: $(VENV)/.installed
	$(BIN)/jupyter-book build . --toc book.yml --config _config.yml -W --keep-going
	@echo "open _build/html/index.html"

# Maintainers only: re-run the shipped chapters at full size and store their outputs (CHAPTER=05 for one).
chapter-outputs: $(VENV)/.installed
	TINYNN_BOOK_SIZE=full $(BIN)/tinynn-book refresh-outputs $(CHAPTER) --yes

clean:
	rm -rf $(VENV) .pytest_cache _build
