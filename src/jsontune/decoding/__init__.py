"""Decoding: the engine (continuous batching), the strategies (greedy, progressive, constrained), grammars and JSON
recovery."""
