# hubtap — every target bootstraps what it needs: .venv, the project with the
# right extras, and (for tests) the Debian packages via deploy/system-packages.sh.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench lint translations system-packages clean

demo: $(VENV)/.installed-all
	$(VENV)/bin/hubtap demo

test: system-packages $(VENV)/.installed-dev
	$(PY) -m pytest

bench: system-packages $(VENV)/.installed-dev
	$(PY) -m benchmarks

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# After changing the kiosk's words: refresh the template, merge it into each
# language's catalog (translate what is new in the .po files), compile.
translations: $(VENV)/.installed-dev
	$(VENV)/bin/pybabel extract -k N_ -k _ -k ngettext:1,2 --no-location --sort-output \
		--project hubtap --copyright-holder "hubtap contributors" \
		-o kiosk/locale/hubtap-kiosk.pot kiosk
	$(VENV)/bin/pybabel update -D hubtap-kiosk -i kiosk/locale/hubtap-kiosk.pot \
		-d kiosk/locale --width 100 --ignore-obsolete --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -D hubtap-kiosk -d kiosk/locale --statistics

system-packages:
	@bash deploy/system-packages.sh

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "hubtap needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes; one stamp per set of extras.
$(VENV)/.installed-%: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[$*]'
	@touch $@

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache build *.egg-info
