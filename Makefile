# LGS retail analytics. `make report` runs the main job, `make test` the test suite;
# both create .venv and install everything first (Python 3.11+ and make are all they need).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
RAW    ?= data/raw
OUT    ?= reports/retail_report.html
LAB_PORT ?= 8888
LAB_ARGS ?=
# JupyterLab refuses to start as root without --allow-root: containers, CI and many servers run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install test test-fast report lab build refresh bench bench-scale bench-build bench-dashboard bench-recommend fidelity fuzz lint architecture docker-lint test-docker clean help

help:
	@echo "make install  create .venv and install the pinned requirements and the lgs package"
	@echo "make report   load data/raw/ (or a generated full-size export), publish a build, write reports/retail_report.html"
	@echo "make lab     open the notebook in JupyterLab on http://127.0.0.1:$(LAB_PORT) (as root too)"
	@echo "make build    publish a new build of the web-app tables from what is loaded (lgs build)"
	@echo "make refresh  the weekly job: load new exports from data/inbox/, publish a build, render the report"
	@echo "make test     run the whole test suite (unit, integration on an embedded Postgres, end to end)"
	@echo "make bench    time the pipeline at full size (bench/results.json), its growth at 0.1x/1x/3x against plain COPY"
	@echo "              and DuckDB (bench/results.json \"scale\", bench/scale.png), and on the real data (bench/real.json)"
	@echo "make bench-scale  the growth at 1x and 10x (about 10 minutes more), merged into the same figures"
	@echo "make bench-dashboard  lgs dashboard at full size in Chromium: first paint and clicks (bench/dashboard.json)"
	@echo "make bench-recommend  what the recommendations add to lgs build (real file, 1x), and the step at 10x (bench/recommend.json)"
	@echo "make bench-live   lgs live: order committed in the shop's database -> event visible, at 1 and 20 orders/s (bench/live.json)"
	@echo "make bench-build  lgs build + lgs report against the old all-in-one lgs report (bench/build_vs_report.json)"
	@echo "make fidelity  the real 2010-2011 file against a generated export, figure by figure (bench/fidelity.json)"
	@echo "make fuzz     the readers' fuzzing targets with a long budget (make test runs them briefly)"
	@echo "make lint     ruff on the code; import-linter on the layering contract; mypy (pyproject.toml)"
	@echo "make architecture  regenerate architecture.png from docs/architecture.py"
	@echo "make docker-lint   hadolint the Dockerfile; validate docker-compose.yml against the Compose spec"
	@echo "make test-docker   the compose stack on a Docker engine, as a user runs it (tests/docker/; 2-4 min)"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(STAMP)

test: install
	$(BIN)/python -m pytest

# Needs a running Docker engine (as root, tests/docker/engine.sh starts one); base images are built
# locally where no registry answers (tests/docker/images.sh) and kept by the engine between runs.
test-docker: install
	bash tests/docker/images.sh
	LGS_TEST_DOCKER=1 $(BIN)/python -m pytest -s -p no:cacheprovider tests/docker

test-fast: install
	$(BIN)/python -m pytest -m "not integration and not e2e"

report: install
	$(BIN)/lgs report --load $(RAW) --out $(OUT)

lab: install
	$(BIN)/jupyter lab --ip 127.0.0.1 --port $(LAB_PORT) $(ROOT_FLAG) $(LAB_ARGS) notebooks/retail_analytics.ipynb

build: install
	$(BIN)/lgs build

refresh: install
	$(BIN)/lgs refresh --out $(OUT)

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scale.py --factors 0.1,1,3
	$(BIN)/python bench/real.py

bench-recommend: install
	$(BIN)/python bench/recommend.py

.PHONY: bench-live
bench-live: install
	$(BIN)/python -m bench.live

bench-scale: install
	$(BIN)/python bench/scale.py --factors 1,10 --runs-at-1x 3

bench-dashboard: install
	set -e; work=$$(mktemp -d); export LGS_HOME=$$work/home; unset DATABASE_URL; \
	$(BIN)/lgs generate --rows 1067371 --seed 7 --out $$work/bench_synthetic.csv; \
	$(BIN)/lgs load --quiet $$work/bench_synthetic.csv; $(BIN)/lgs build --quiet; \
	$(BIN)/python bench/dashboard.py; $(BIN)/lgs db stop; rm -rf $$work

fidelity: install
	$(BIN)/python bench/fidelity.py

fuzz: install
	LGS_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -p no:cacheprovider tests/ingest/test_fuzz.py --hypothesis-show-statistics

bench-build: install
	$(BIN)/python bench/build_vs_report.py

lint: install
	$(BIN)/ruff check src tests bench docs
	$(BIN)/lint-imports
	$(BIN)/mypy

architecture: install
	$(BIN)/python docs/architecture.py

docker-lint: install
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

clean:
	rm -rf $(VENV) reports/*.html reports/*.ipynb .pytest_cache .ruff_cache
