# qcompare — the two commands of the README, and a few helpers.
#   make all    build data/normalized and execute every notebook into reports/
#   make test   lint, type-check, unit tests, doctests, nbval on the notebooks
# Everything runs in .venv, created here from pyproject.toml + constraints.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all install build report test lint typecheck check notebooks bench bench-scale constraints clean

all: build report

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "qcompare needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

build: $(STAMP)
	$(BIN)/qcompare build

report: build
	$(BIN)/qcompare report

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/qcompare check

# Re-execute the committed notebooks in place so their stored outputs (the
# nbval baselines) match the current code and data. Review the diff before committing.
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False notebooks/*.ipynb

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py

# Time every stage against the number of schemes (synthetic corpus, 5 to 3,000); about ten minutes.
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/bench_scale.py --sizes 5 100 1000 3000 --json docs/scale.json --plot docs/scale.png

clean:
	rm -rf $(VENV) reports

# Re-pin every installed package (after deliberately upgrading one).
constraints: $(STAMP)
	{ printf '# Exact versions the committed notebook outputs (nbval baselines) were produced with.\n# `make install` installs with these as constraints; refresh with `make constraints` and then `make notebooks`.\n'; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' | sort -f; } > constraints.txt
