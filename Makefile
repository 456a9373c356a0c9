# The README's two commands: `make` (set up, then run the default analysis) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 4
CONFIG ?= config/config.yaml

.PHONY: run test test-quick lint clean workbook

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)
	$(BIN)/python -m pytest --durations=15

# A blank extraction workbook for a config: make workbook OUT=extraction.xlsx [CONFIG=config/x.yaml] [FORCE=1]
workbook: $(STAMP)
	@test -n "$(OUT)" || { echo "Usage: make workbook OUT=path/to/extraction.xlsx [CONFIG=$(CONFIG)] [FORCE=1]" >&2; exit 2; }
	PYTHONPATH=workflow/scripts $(BIN)/python -m umbrella.extract.workbook "$(OUT)" --config "$(CONFIG)" $(if $(FORCE),--force)

# The unit tests alone: no Snakemake run, no browser, no spreadsheet.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not browser"

lint: $(STAMP)
	$(BIN)/ruff check workflow tests benchmarks
	$(BIN)/ruff format --check workflow tests benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

clean:
	rm -rf results reports logs .snakemake
