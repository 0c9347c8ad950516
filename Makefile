# gantutor: two commands do all the set-up on a fresh machine (Python 3.10+ and the package registries).
#   make book   install what is needed, execute the notebooks, build the book into _build/html
#   make test   install what is needed (and Debian's chromium), run unit tests, every notebook (nbval),
#               the book build, the browser tests (screenshots in _build/screenshots) and the widgets
#               clicked in JupyterLab and in the classic Notebook with ipywidgets 7.7; on every core
#               (TEST_WORKERS=1 for one process)
#   make lab    open JupyterLab on the project's environment (127.0.0.1, with a token) to run a chapter yourself
#   make clean  remove everything built (the book, its execution cache, the test environments)
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: install browser book lab test test-fast clean

# A virtual environment that can see the system's packages: on a machine (or Colab) that
# already has torch, nothing is downloaded again; elsewhere everything comes from requirements.txt.
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gantutor)" >/dev/null
	@touch $@

install: $(VENV)/.installed

# jupyter-book through the venv's python (its console script may live in the system's bin). The wrapper
# re-reads every page, so a notebook whose execution failed is executed again on the next run (the cache
# keeps successful executions only), and a failed build ends with the notebook, cell and error in plain
# words, its pages moved to _build/html-failed.
book: install
	$(BIN)/python book/_ext/build_book.py .

# JupyterLab on the project's environment, bound to 127.0.0.1 with a token (printed with the URL to open).
lab: install
	$(BIN)/python -m jupyterlab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) \
	  --ServerApp.default_url=/lab/tree/book $(if $(filter 0,$(shell id -u)),--allow-root)

# The browser test uses Debian's chromium: install it when missing and when we may (root, apt-get);
# otherwise the test says why it skipped (in CI it fails instead).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed and cannot be installed here: the browser test will skip"; fi; }

# Two parts. First everything but the book tests, one worker per core (pytest-xdist): --dist loadfile keeps
# each notebook (and each test file) in one worker, in order; every worker runs one torch thread, so each
# number is the one a serial run gives. The longest chapters start first (conftest.py). Then the book
# tests, which build the HTML from the notebooks the first part executed.
TEST_WORKERS ?= auto
test: install browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not book"
	$(BIN)/python -m pytest -m book

# Unit tests only (seconds): no notebooks, no book build.
test-fast: install
	$(BIN)/python -m pytest tests -m "not book and not slow"

clean:
	rm -rf _build .pytest_cache
