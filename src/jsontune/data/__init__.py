"""Data: the contract every record follows, its schemas, how a record becomes a prompt, the synthetic set, splits.

The bottom of the house: nothing here imports training, decoding, evaluation or the benchmarks.
"""
