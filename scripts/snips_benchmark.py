"""The SNIPS learning curve: `python scripts/snips_benchmark.py [--lora-sizes 10,20,50,70,all]
[--complete-sizes 10,20,50,70] [--modes greedy,constrained] [--split test|dev] [--fresh] [recipe overrides]`.
See `--help`."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["snips-benchmark", *sys.argv[1:]])
