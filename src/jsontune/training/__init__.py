"""Training: the flow of `jsontune train` (`train`), its trainer and fast path, and the checks run before it."""
