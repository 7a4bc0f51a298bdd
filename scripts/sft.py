"""Fine-tune with a recipe: `accelerate launch scripts/sft.py recipes/lora.yaml [--key value ...]`.

Also runs in one process: `python scripts/sft.py recipes/complete.yaml --max_steps 5`. See `--help`.
"""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["train", *sys.argv[1:]])
