"""What `make snips-benchmark` runs when told nothing, defined once: the recipes and sizes of the whole comparison.

The CLI and `run_snips_benchmark` both take their defaults from here. The module imports nothing, so
`jsontune snips-benchmark --help` can show them without loading torch.

The whole pool has its own recipe per method (`WHOLE_POOL_RECIPES`). It is about 26 times the largest sample,
and the curve's recipe (2 epochs, 3 slot-swapped variants of each query) would make it 51,592 rows: 12,898 steps
of batch 8, about 11 hours on a 2-core CPU. A method without one trains its curve recipe on the whole pool too.
"""

from __future__ import annotations

RECIPES = {"lora": "recipes/snips/lora.yaml", "complete": "recipes/snips/complete.yaml"}
WHOLE_POOL_RECIPES = {"lora": "recipes/snips/lora-all.yaml"}
# Complete fine-tuning of the whole pool is left out, and has no recipe of its own yet: one epoch of it would be
# about 75 minutes of training more on this CPU (1,613 steps at complete-50's 2.8 s a step), and the curve puts
# complete fine-tuning below LoRA at every size measured.
SIZES = {"lora": ("10", "20", "50", "70", "all"), "complete": ("10", "20", "50", "70")}
MODES = ("greedy", "constrained")
OUT_DIR = "results/snips"
MODELS_DIR = "models/snips"  # a model per <method>-<size>/
