# gantutor: two commands do all the set-up on a fresh machine (Python 3.10+ and the package registries).
#   make book   install what is needed, execute the notebooks, build the book into _build/html
#   make test   install what is needed, run unit tests, every notebook (nbval), the book build and the browser test
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: install book test test-fast clean

# A virtual environment that can see the system's packages: on a machine (or Colab) that
# already has torch, nothing is downloaded again; elsewhere everything comes from requirements.txt.
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gantutor)" >/dev/null
	@touch $@

install: $(VENV)/.installed

book: install
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "The book is built: open $(abspath _build/html/index.html)"

test: install
	$(BIN)/python -m pytest

# Unit tests only (seconds): no notebooks, no book build.
test-fast: install
	$(BIN)/python -m pytest tests -m "not book and not slow"

clean:
	rm -rf _build .pytest_cache
