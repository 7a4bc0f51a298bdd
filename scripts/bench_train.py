"""Training speed, TRL defaults vs jsontune: `python scripts/bench_train.py [--help]` (= `make bench`)."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["bench-train", *sys.argv[1:]])
