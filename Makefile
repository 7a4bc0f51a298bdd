# jsontune: `make experiment` runs the main job, `make test` the tests. Both set up .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A CPU machine gets the CPU build of torch from this pin; a machine whose .venv already has a torch
# (e.g. a CUDA build) keeps it. Override: make setup TORCH_SPEC="torch==2.13.0+cu128 --index-url ..."
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: setup experiment cv gpu-check snips-benchmark train eval bench test test-fast prepare-base data clean help

help:
	@echo "make experiment   fine-tune complete + LoRA on the embedded data, compare with the base"
	@echo "make cv           complete vs LoRA cross-validated over every domain, 5 folds (~1 hour here; ARGS=--debug: minutes)"
	@echo "                  ARGS=\"--with-ablation\": also LoRA without the schema in its prompts (about 4.5 min more)"
	@echo "                  ARGS=\"--with-grpo\": also LoRA + GRPO against LoRA trained for as long (about 30 min more)"
	@echo "make test         run the test suite (installs what it needs)"
	@echo "make snips-benchmark  SNIPS slot filling: LoRA and complete fine-tuning curves vs the published NLU engines (results/snips/; ~4.3 h on 2 CPU cores)"
	@echo "make setup        create .venv/ and install jsontune with its dependencies"
	@echo "make train RECIPE=recipes/lora.yaml ARGS='--max_steps 5'"
	@echo "make eval MODEL=models/lora DATA=FILE.jsonl OUT=DIR ARGS='--decoding progressive'"
	@echo "make bench        decoding speed: the engine vs HF generate; serving: 1 client vs 16; training speed: TRL defaults vs jsontune"
	@echo "make prepare-base convert the embedded base model into models/base/"
	@echo "make gpu-check    on a GPU: training speed and MFU, recipes in bf16, decoding, serving, ZeRO-2 (~8 min on one H100)"

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install --quiet $(TORCH_SPEC)
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

prepare-base: setup
	$(BIN)/jsontune prepare-base

experiment: setup
	$(BIN)/python scripts/run_experiment.py $(ARGS)

# Complete vs LoRA over every domain, 5 folds (about an hour here); resumes where a stopped run left off.
cv: setup
	$(BIN)/python scripts/cross_validate.py $(ARGS)

# Resumes where a stopped run left off; ARGS="--fresh" redoes everything, ARGS="--help" lists the options.
snips-benchmark: setup
	$(BIN)/python scripts/snips_benchmark.py $(ARGS)

RECIPE ?= recipes/lora.yaml
train: setup
	$(BIN)/python scripts/sft.py $(RECIPE) $(ARGS)

# make eval MODEL=models/lora DATA=data/synthetic/records.jsonl OUT=results/eval-lora ARGS="--limit 50"
MODEL ?= models/lora
DATA ?= results/benchmarks/test.jsonl
OUT ?= results/eval
eval: setup
	$(BIN)/python scripts/evaluate.py --model $(MODEL) --data $(DATA) --out $(OUT) $(ARGS)

# Decoding and serving first: the last two lines are the training speedups.
bench: setup
	$(BIN)/python scripts/bench_decoding.py
	$(BIN)/python scripts/bench_serve.py
	$(BIN)/python scripts/bench_train.py $(ARGS)

# On a lent GPU: training speed and MFU, the recipes in bf16, decoding, serving, ZeRO-2; one table at the end
# (results/gpu-check/gpu-check.md). ARGS="--dry-run" checks the steps on any machine.
gpu-check: setup
	$(BIN)/jsontune gpu-check $(ARGS)

test: setup
	$(BIN)/python -m pytest -q $(ARGS)

# Without the slow and distributed tests (a quick check while editing; CI runs `make test`).
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not distributed" $(ARGS)

data: setup
	$(BIN)/jsontune data generate -o data/synthetic --overwrite
	$(BIN)/jsontune data snips ../shared/data/snips -o data/snips --overwrite

clean:
	rm -rf $(VENV) results models/complete models/lora
