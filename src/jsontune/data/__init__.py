"""Data: the contract every record follows, the sources and row formats it is read from, its schemas, how a record
becomes a prompt (and the chat template that says the same), the synthetic set, splits.

The bottom of the house: nothing here imports training, decoding, evaluation or the benchmarks.
"""
