"""jsontune: fine-tune causal language models to write JSON, and benchmark what they write."""

__version__ = "0.1.0"
