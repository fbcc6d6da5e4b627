# Two commands: `make run` runs the product, `make test` runs the whole suite.
# `make run` needs only Python (3.11 to 3.13), make and bash; `make test` also needs chromium, a
# CJK TrueType font, node/npm and prometheus, which it installs with apt-get when they are missing
# and it runs as
# root (CI), and otherwise names what to install.
# The first Python from 3.11 to 3.13 on the PATH (python3 itself when it is one of them);
# `make run PYTHON=/path/to/python` to choose.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
	&& { echo $$p; exit; }; done; echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
STRIPE_MOCK := tools/stripe-mock
NODE_STAMP  := $(STRIPE_MOCK)/node_modules/.installed
# The CJK TrueType fonts activities/labels.py embeds (the first one found); any one is enough.
CJK_FONTS := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc \
             /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf \
             /usr/share/fonts/truetype/arphic/uming.ttc

.PHONY: run test venv test-deps system-packages chromium clean which-python

# The product alone (what `make run` needs); the test tools on top for `make test`.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11 (3.11 to 3.13)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || { echo "$(PYTHON) is older than 3.11; set PYTHON=/path/to/python3.11 (3.11 to 3.13)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the product into $(VENV) ($$($(BIN)/python --version))"
	@$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	@echo "installing the test tools into $(VENV)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(TEST_STAMP)

venv: $(TEST_STAMP)

run: $(STAMP)
	@$(BIN)/python -m runtime.devstack

test: $(TEST_STAMP) test-deps
	$(BIN)/python -m pytest

# Everything the suite needs beyond the venv (nothing of it is needed by `make run`).
test-deps: system-packages $(NODE_STAMP)

# System packages of the suite, checked each time (fast when present); installed with one
# `apt-get update` + `apt-get install` when some are missing and we run as root (CI):
#   chromium          tests/browser drives Debian's chromium (no browser download at run time)
#   fonts-wqy-zenhei  tests/labels: a CJK TrueType font embedded in the return label
#   nodejs npm        tests/adapters/test_stripe_refunds.py runs stripe-stateful-mock with node
#                     (also tests/adapters/test_stripe_checkout.py, tests/lifecycle/test_customer_payment.py)
#   prometheus        tests/metrics: a real Prometheus scrapes the worker and the receiver;
#                     promtool checks monitoring/prometheus-rules.yml (the binaries only: its
#                     systemd service is not used)
# Not root: nothing is installed; the line below names the packages and the tests that will fail.
system-packages:
	@missing=""; failing=""; \
	command -v chromium >/dev/null 2>&1 || { missing="$$missing chromium"; failing="$$failing tests/browser"; }; \
	font=""; for f in $(CJK_FONTS); do [ -f "$$f" ] && font="$$f"; done; \
	[ -n "$$font" ] || { missing="$$missing fonts-wqy-zenhei"; failing="$$failing tests/labels"; }; \
	command -v npm >/dev/null 2>&1 || { missing="$$missing nodejs npm"; failing="$$failing tests/adapters/test_stripe_refunds.py"; }; \
	command -v promtool >/dev/null 2>&1 || { missing="$$missing prometheus"; failing="$$failing tests/metrics"; }; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make test: installing$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; } \
			|| echo "make test: apt-get could not install$$missing:$$failing will fail"; \
	else \
		echo "make test: missing$$missing (apt-get install$$missing as root):$$failing will fail"; \
	fi

chromium: system-packages  # the former name of this step

# stripe-stateful-mock, the Stripe-compatible server of the refund tests (tests/adapters).
$(NODE_STAMP): $(STRIPE_MOCK)/package-lock.json | system-packages
	@command -v npm >/dev/null 2>&1 || { echo "make test: npm is missing: tests/adapters/test_stripe_refunds.py will fail"; exit 0; }; \
	npm ci --prefix $(STRIPE_MOCK) --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP)

which-python:
	@echo $(PYTHON)

clean:
	rm -rf $(VENV) .data .pytest_cache $(STRIPE_MOCK)/node_modules
