"""The experiment: `python scripts/run_experiment.py [--debug] [--skip-complete] [--skip-lora] [--skip-benchmark]
[--dataset PATH] [--with-ablation] [--with-grpo]`. Trains complete and LoRA models (with --with-ablation, LoRA
without the schema in its prompts; with --with-grpo, LoRA + GRPO and LoRA trained for as long) and compares them
with the base."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["experiment", *sys.argv[1:]])
