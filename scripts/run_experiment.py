"""The experiment: `python scripts/run_experiment.py [--debug] [--skip-complete] [--skip-lora] [--skip-ablation]
[--skip-benchmark] [--dataset PATH] [--with-grpo]`. Trains complete and LoRA models (and LoRA without the schema
in its prompts; with --with-grpo, LoRA + GRPO and LoRA trained for as long) and compares them with the base."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["experiment", *sys.argv[1:]])
