"""Evaluation: scoring generated JSON against references, and the reports that show the scores."""
