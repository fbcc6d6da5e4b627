# Two commands: `make run` runs the product, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv clean chromium

$(STAMP): pyproject.toml tools/stripe-mock/package-lock.json
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	npm ci --prefix tools/stripe-mock --no-audit --no-fund --loglevel=error  # Stripe-compatible server for the refund tests
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m runtime.devstack

test: $(STAMP) chromium
	$(BIN)/python -m pytest

# tests/browser drives Debian's chromium (no browser download at run time). Installed when missing
# and running as root (CI); otherwise that test fails and says how to install it.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "make test: chromium is missing and cannot be installed here: tests/browser will fail (apt-get install chromium)"

clean:
	rm -rf $(VENV) .data .pytest_cache
