"""jsontune's tests, one folder per package folder (tests/training/ tests src/jsontune/training/, ...)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
