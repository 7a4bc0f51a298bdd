"""Evaluate a model on a contract JSONL: `python scripts/evaluate.py --model DIR --data FILE --out DIR`."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["eval", *sys.argv[1:]])
