"""Cross-validation of complete fine-tuning against LoRA over every domain: `python scripts/cross_validate.py
[--folds K] [--max-train-rows-per-domain N] [--max-held-out-rows-per-domain N] [--fresh] [--debug]` (= `jsontune
cv`; `--help` lists every option). Resumes where a stopped run left off."""

import sys

from jsontune.cli import main

if __name__ == "__main__":
    main(["cv", *sys.argv[1:]])
