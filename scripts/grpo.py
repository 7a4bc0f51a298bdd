"""Reinforce a fine-tuned model with GRPO: `accelerate launch scripts/grpo.py recipes/grpo.yaml [--key value ...]`.

Also runs in one process: `python scripts/grpo.py recipes/grpo.yaml --max_steps 5`. See `--help`.
"""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["grpo", *sys.argv[1:]])
