"""Training: the flow of `jsontune train` (`train`), its trainer and fast path, the checks run before it, and
reinforcement after it (`grpo`, with the JSON rewards of `rewards`)."""
