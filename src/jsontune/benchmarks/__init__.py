"""Benchmarks: the experiment, the speed benches and one folder per dataset benchmark (snips/).

The top of the house: only the command line imports from here.
"""
