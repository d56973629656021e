# The two commands of the README: `make book` and `make test`.
# Both create .venv if it is missing and install requirements.txt and the package.

VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
JB      := $(VENV)/bin/jupyter-book
STAMP   := $(VENV)/.installed
BASEPY  := $(shell command -v python3.11 2>/dev/null || command -v python3)

.PHONY: format all setup book test test-unit book-fast student instructor lab clean help

help:
	@echo "make book     build the book, every page executed at full size, into _build/html"
	@echo "make test     unit tests, doctests, every page executed in fast mode, fast book build"
	@echo "make format   format the code cells of every page (ruff, 88 characters a line)"
	@echo "make student  student notebooks (plain Jupyter, answer cells, no solutions) in _build/student"
	@echo "make instructor  the same with solutions (and full-size outputs after make book)"
	@echo "make lab      JupyterLab on the book: pages open as notebooks, MyST rendered"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PYTHON) || $(BASEPY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	$(PYTHON) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

# Pages run in JOBS worker processes (longest first) into a fresh jupyter-cache, then
# Jupyter Book builds the HTML from it (src/latentlab/_parallel_build.py).
JOBS    ?= 2

book: setup
	LATENTLAB_FAST=0 $(PYTHON) -m latentlab._parallel_build --jobs $(JOBS)
	$(PYTHON) -m latentlab.editions publish _build/html
	$(PYTHON) -m latentlab.book_tools check-html _build/html
	@echo "Book built: open $(CURDIR)/_build/html/index.html"

test-unit: setup
	LATENTLAB_FAST=1 $(PYTHON) -m pytest

book-fast: setup
	LATENTLAB_FAST=1 $(PYTHON) -m latentlab._parallel_build --fast --jobs $(JOBS)
	$(PYTHON) -m latentlab.editions publish --fast _build/html
	$(PYTHON) -m latentlab.book_tools check-html _build/html

test: test-unit book-fast

student: setup
	$(PYTHON) -m latentlab.editions student --out _build/student

instructor: setup
	$(PYTHON) -m latentlab.editions instructor --out _build/instructor

# JupyterLab on the book: book/*.md open as notebooks (jupytext, paired with
# book/notebooks/*.ipynb) and render MyST (jupyterlab-myst); both are pinned in
# requirements.txt. LATENTLAB_FAST=1 make lab runs the pages at the small sizes.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
lab: setup
	@mkdir -p $(LAB_SETTINGS)
	@printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers":' \
	  ' {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}' \
	  > $(LAB_SETTINGS)/overrides.json
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) \
	  --LabApp.default_url=/lab/tree/book/intro.md

# Formats the code cells of every page with ruff (88 characters a line), through jupytext.
format: setup
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/jupytext --pipe \
	  "ruff format --line-length 88 --stdin-filename cell.py -" book/*.md

clean:
	rm -rf _build .pytest_cache
