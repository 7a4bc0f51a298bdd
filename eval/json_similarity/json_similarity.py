"""JSON similarity: jsontune's benchmark metrics as a Hugging Face `evaluate` module.

Load it offline from a checkout: `evaluate.load("eval/json_similarity")`. The figures are computed by
`jsontune.metrics` (the same code as `jsontune eval`), so they equal that command's metrics.json.
"""

import json

import datasets
import evaluate

from jsontune.evaluation.metrics import aggregate, row_metrics

_DESCRIPTION = """Scores generated text against reference JSON: strict parse rate, parse rate after cleaning,
schema adherence, structure similarity, exact match, field precision/recall/F1, tree similarity,
semantic similarity and a weighted quality score, each with a 95% bootstrap confidence interval;
slot precision/recall/F1 and intent accuracy for SNIPS-style references ({"intent", "slots"})."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of str, the raw generated texts.
    references: list of str, the reference JSON values, serialised (json.dumps).
    schemas: optional list of str or None, a JSON Schema per row (serialised); a row without one is
        checked against the schema implied by its reference (same keys, same types).
    n_resamples: bootstrap resamples of the confidence intervals (default 1000; 0: none).
    seed: seed of the bootstrap (default 0).
Returns:
    dict with n, strict_parse_rate, parse_rate, schema_adherence, structure_similarity, exact_match,
    field_precision, field_recall, field_f1, tree_similarity, semantic_similarity, quality_score, fact_f1,
    invented_key_rate, duplicate_key_rate, ci ({name: [low, high]}), and for slot rows slot_precision,
    slot_recall, slot_f1, intent_accuracy.
Example:
    >>> metric = evaluate.load("eval/json_similarity")
    >>> metric.compute(predictions=['{"a": 1}'], references=['{"a": 1}'])["field_f1"]
    1.0
"""

_CITATION = """@software{jsontune, title = {jsontune: fine-tune language models to write JSON}}"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class JsonSimilarity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references, schemas=None, n_resamples=1000, seed=0):
        if schemas is not None and len(schemas) != len(predictions):
            raise ValueError(f"schemas has {len(schemas)} entries for {len(predictions)} predictions")
        rows = []
        for index, (output, reference) in enumerate(zip(predictions, references)):
            schema = schemas[index] if schemas is not None else None
            rows.append(row_metrics(output, json.loads(reference), json.loads(schema) if schema else None))
        return aggregate(rows, n_resamples=n_resamples, seed=seed)
