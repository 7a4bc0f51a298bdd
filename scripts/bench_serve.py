"""Serving throughput, 1 client vs many, and a load test: `python scripts/bench_serve.py [--help]`."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["bench-serve", *sys.argv[1:]])
