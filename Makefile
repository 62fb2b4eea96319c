# MineWatch — the two commands are `make demo` and `make test`; everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit bench bench-meters bench-network bench-plants bench-spark bench-probe bench-web spark-env train-meters regions maps clean

setup: $(STAMP)

KERNEL_SOURCES := setup.py $(wildcard src/minewatch/detect/meters/_stage_*.[ch]) \
	$(wildcard src/minewatch/detect/network/_*.c)

$(STAMP): pyproject.toml constraints.txt $(KERNEL_SOURCES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@rm -f src/minewatch/detect/meters/_kernels*.so  # rebuilt from its sources below
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,postgres,spark]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/minewatch demo

lint: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks
	$(BIN)/ruff format --check src tests tools benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Meter analytics: quality on unseen provinces, speed against the floor and tsfresh, memory.
bench-meters: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python -m benchmarks.meters --sweep 5

# Network detection: recall and false alarms on the corpus and on unseen server rooms (beside
# nDPI's label alone), and packets/s beside plain nfstream and ndpiReader; then flow records
# (decoder and collector speed, flow-only recall on the corpus replayed by softflowd) and the
# tracing of 100,000 flows to enterprises and machines.
bench-network: $(STAMP)
	$(BIN)/python -m benchmarks.network --repeat 5
	$(BIN)/python -m benchmarks.flows
	$(BIN)/python -m benchmarks.attribution

bench-plants: $(STAMP)
	$(BIN)/python -m benchmarks.plants

# Spark engine: the meter scan on Spark local[2] beside the in-process scan, 10,000 to 1,000,000
# meters × 7 days (generated once under the temp dir): times, ratio, throughput per core and
# growth with size; exits non-zero unless both engines' findings are identical.
bench-spark: $(STAMP)
	$(BIN)/python -m benchmarks.spark

# Host probe: wall time and peak memory on a crafted server with 500 processes and on this
# machine, beside ps and a bare Python (GNU time measures each in a process of its own).
bench-probe: $(STAMP)
	$(BIN)/python -m benchmarks.probe
	$(BIN)/python -m benchmarks.host_rules
	$(BIN)/python -m benchmarks.selfcheck

# A Python environment for Spark's executors (spark-submit --archives …#env, docs/spark.md):
# this checkout's wheel, built with its compiled kernels, and its pinned dependencies in a fresh
# venv, packed by venv-pack into dist/minewatch-spark-env.tar.gz. PySpark itself comes from the
# cluster's Spark (4.0 or newer), which puts it on the workers' path.
spark-env: $(STAMP)
	rm -rf build/spark-env dist/minewatch-spark-env.tar.gz dist/minewatch-*.whl
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .
	$(PYTHON) -m venv build/spark-env
	build/spark-env/bin/python -m pip install --quiet -c constraints.txt "$$(ls dist/minewatch-*.whl)" pandas venv-pack==0.2.0
	build/spark-env/bin/venv-pack --quiet -p build/spark-env -o dist/minewatch-spark-env.tar.gz
	@echo "packed: dist/minewatch-spark-env.tar.gz (executors need Python $$($(PYTHON) -c 'import sys; print(sys.version.split()[0])') at $$($(PYTHON) -c 'import sys; print(sys.base_prefix)'))"

# Web platform: 100,000 projects and 1,000,000 leads in PostgreSQL (database minewatch_bench,
# loaded once), 50 concurrent signed-in officials on loopback; p50/p95 of the ledger search, the
# case page and the dashboard.
bench-web: $(STAMP)
	$(BIN)/python -m benchmarks.web

# Retrain the packaged meter model on generated provinces (writes detect/data/meters-model.json).
train-meters: $(STAMP)
	$(BIN)/minewatch train meters

# Rebuild the packaged GB/T 2260 table from the shared CC0 source (output is committed).
regions: $(STAMP)
	$(BIN)/python tools/build_regions.py ../shared/data/regions src/minewatch/reference/data

# Rebuild the dashboard's offline maps (src/minewatch/web/static/maps, committed) from the map
# data of ECharts 4.9's npm package: make maps ECHARTS4=path/to/echarts-4.9.0.tgz
ECHARTS4 ?= echarts-4.9.0.tgz
maps: $(STAMP)
	PYTHONPATH=src $(BIN)/python tools/build_maps.py $(ECHARTS4) src/minewatch/web/static/maps

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build src/*.egg-info src/minewatch/detect/meters/_kernels*.so
