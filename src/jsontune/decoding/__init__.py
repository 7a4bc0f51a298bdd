"""Decoding: batched generation, the strategies (greedy, progressive, constrained), grammars and JSON recovery."""
