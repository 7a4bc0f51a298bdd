"""The decoding defaults, defined once: the token budget, the batch size, the retry schedule, the grammar backends.

Every caller (the Python API, the CLI, recipes, evaluation, the training callback) takes its default from
here. The module imports nothing heavy, so `jsontune --help` can show these without loading torch.
"""

from __future__ import annotations

# The token budget of one answer, and how many rows the decoding engine decodes together at most (fewer when
# their cache would not fit in memory). 128 was the fastest of 32/64/128 on this 2-core CPU (`make bench`:
# 63.7 s against 77.6 s at 64 and 93.1 s at 32 for 128 prompts).
DEFAULT_MAX_NEW_TOKENS = 192
DEFAULT_BATCH_SIZE = 128
# Progressive sampling: the temperatures of the retries of an invalid answer, in order.
DEFAULT_TEMPERATURES = (0.3, 0.6, 0.9)
# Grammar-constrained decoding: the backends jsontune drives, the first being the default.
BACKENDS = ("llguidance", "xgrammar")
DEFAULT_BACKEND = BACKENDS[0]
