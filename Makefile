# Conduct Casebook: `make run` opens the app, `make test` runs every check.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make run` keeps its own data folder, so the demonstration cases never mix with a
# school's real casebook (which lives in the per-user data folder).
DATA_DIR ?= $(CURDIR)/.casebook-dev


.PHONY: run test test-durations lint bench bench-scale bundle clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	VENV=$(VENV) ./scripts/bootstrap.sh

run: $(STAMP)
	$(PY) -m app --data-dir "$(DATA_DIR)" --demo-if-empty

lint: $(STAMP)
	$(VENV)/bin/ruff check app tests benchmarks
	$(VENV)/bin/ruff format --check app tests benchmarks
	$(VENV)/bin/mypy app
	$(VENV)/bin/lint-imports

# `timeout` bounds a deadlock that holds the interpreter lock, which pytest-timeout cannot.
# The suite runs on every core (up to 4), a file per worker so a module's shared casebook
# (or bare Debian root) is made once.
test: lint
	QT_QPA_PLATFORM=offscreen timeout 2400 $(PY) -m pytest -q -n auto --maxprocesses 4 \
	  --dist loadfile $(if $(CI),-m "slow or not slow",)

# The workers are dealt the longest test files first, by the times in tests/durations.json
# (tests/scheduling.py); this refreshes them after a passing run of the normal suite.
test-durations: $(STAMP)
	QT_QPA_PLATFORM=offscreen timeout 2400 $(PY) -m pytest -q -n auto --maxprocesses 4 \
	  --dist loadfile --store-durations

# `make bench`: the quick benchmarks (minutes), one table of figures and targets at the end.
# `make bench-scale` adds the million-case ones (SQLite and PostgreSQL; the first run builds
# and caches their casebooks). BENCH_ARGS=--markdown prints the table as the README holds it.
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run_all.py $(BENCH_ARGS)

bench-scale: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run_all.py --scale $(BENCH_ARGS)

# One folder, dist/ConductCasebook/, runnable on a PC without Python (build on the same OS).
bundle: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check "pyinstaller==6.22.3"
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN build.spec
	@du -sh dist/ConductCasebook

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
