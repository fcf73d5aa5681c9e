# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install tools demo test lint bench lock clean checkov-domains

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Build the scanners' pinned environments (cached under ~/.cache/compliance-pipeline).
tools: install
	$(BIN)/compliance-pipeline tools install

# Scan the deliberately insecure sample against a small offline advisory database.
# Exit 1 (findings at or above the threshold) is the expected result here.
demo: tools
	$(BIN)/compliance-pipeline vulndb import tests/data/osv --db $(VENV)/demo-vulndb.sqlite
	$(BIN)/compliance-pipeline scan examples/demo-repo --config examples/demo-config.toml \
	  --output compliance-evidence; \
	  rc=$$?; echo "compliance-pipeline exit code: $$rc (0 pass, 1 findings, 2 incomplete, 3 usage)"; \
	  test $$rc -le 2

lint: install
	$(BIN)/ruff check pipeline tests bench scripts policies
	$(BIN)/ruff format --check pipeline tests bench scripts policies
	$(BIN)/mypy

# The system services the tests use (chromium, postgresql, …) come first: see
# scripts/test-services.sh (uses sudo for apt when not root).
test: tools lint
	bash scripts/test-services.sh
	$(BIN)/pytest -n auto

bench: tools
	$(BIN)/python bench/scan_bench.py
	$(BIN)/python bench/vulndb_bench.py
	$(BIN)/python bench/policies_bench.py
	$(BIN)/python bench/evidence_bench.py
	$(BIN)/python bench/hook_bench.py
	$(BIN)/python bench/ledger_bench.py
	$(BIN)/python bench/deps_bench.py

# After a checkov upgrade: re-sort its built-in checks into domains (review the diff).
checkov-domains: tools
	$$(ls $${XDG_CACHE_HOME:-$$HOME/.cache}/compliance-pipeline/envs/checkov-*/bin/python | head -1) \
	  scripts/checkov_catalogue.py > .venv/checkov-catalogue.json
	$(BIN)/python scripts/checkov_domains.py .venv/checkov-catalogue.json

# Re-pin the scanners (needs the network); then re-capture tests/data with
# `$(BIN)/python tests/data/capture.py`.
lock: install
	cd pipeline/locks && for f in *.in; do \
	  ../../$(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 \
	    --no-header $$f -o $${f%.in}.txt; done

clean:
	rm -rf $(VENV) compliance-evidence .mypy_cache .pytest_cache .ruff_cache
