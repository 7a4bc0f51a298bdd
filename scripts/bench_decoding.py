"""Time decoding steps, unconstrained vs grammar-constrained: `python scripts/bench_decoding.py [--help]`."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["bench-decoding", *sys.argv[1:]])
