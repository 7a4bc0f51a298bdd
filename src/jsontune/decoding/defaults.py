"""The decoding defaults, defined once: the token budget, the batch size, the retry schedule, the grammar backends.

Every caller (the Python API, the CLI, recipes, evaluation, the training callback) takes its default from
here. The module imports nothing heavy, so `jsontune --help` can show these without loading torch.
"""

from __future__ import annotations

# The token budget of one answer, and how many prompts are generated at once.
DEFAULT_MAX_NEW_TOKENS = 192
DEFAULT_BATCH_SIZE = 16
# Progressive sampling: the temperatures of the retries of an invalid answer, in order.
DEFAULT_TEMPERATURES = (0.3, 0.6, 0.9)
# Grammar-constrained decoding: the backends jsontune drives, the first being the default.
BACKENDS = ("llguidance", "xgrammar")
DEFAULT_BACKEND = BACKENDS[0]
