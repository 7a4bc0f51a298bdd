"""Paired comparisons of two models on the same rows: hand-computed bootstrap, Wilcoxon and McNemar results."""

from __future__ import annotations

import pytest

from jsontune.evaluation.significance import mcnemar, paired_comparison


def _pairs(a_values, b_values, key="quality_score"):
    rows_a = [{"id": i, key: v} for i, v in enumerate(a_values)]
    rows_b = [{"id": i, key: v} for i, v in enumerate(b_values)]
    return rows_a, rows_b


def test_paired_comparison_hand_computed():
    rows_a, rows_b = _pairs([0.0, 0.5, 0.25, 0.0], [0.5, 0.5, 0.75, 1.0])  # differences b - a: 0.5, 0, 0.5, 1
    result = paired_comparison(rows_a, rows_b, "quality_score")
    assert result["n"] == 4
    assert result["mean_difference"] == pytest.approx(0.5)
    low, high = result["ci"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0  # resampled means of these differences stay within [0, 1]
    # Zero dropped, three positive differences: the exact two-sided p is 2 * (1/2)**3.
    assert result["p_value"] == pytest.approx(0.25)
    assert result["test"] == "wilcoxon signed-rank"


def test_paired_comparison_exact_case_and_sign():
    rows_a, rows_b = _pairs([0.0] * 5, [0.1, 0.2, 0.3, 0.4, 0.5])
    up = paired_comparison(rows_a, rows_b, "quality_score")
    down = paired_comparison(rows_b, rows_a, "quality_score")
    # Five positive, distinct differences: exact two-sided p = 2 / 2**5.
    assert up["p_value"] == pytest.approx(0.0625) == down["p_value"]
    assert up["mean_difference"] == pytest.approx(0.3) == -down["mean_difference"]
    assert up["ci"][0] > 0 and down["ci"][1] < 0
    assert up["ci"] == pytest.approx([-down["ci"][1], -down["ci"][0]])


def test_paired_comparison_matches_by_id_and_skips_unmatched():
    rows_a = [{"id": "x", "field_f1": 0.0}, {"id": "y", "field_f1": 1.0}, {"id": "only-a", "field_f1": 0.0}]
    rows_b = [{"id": "y", "field_f1": 1.0}, {"id": "x", "field_f1": 0.5}, {"id": "only-b", "field_f1": 1.0},
              {"id": "z", "field_f1": None}]
    result = paired_comparison(rows_a, rows_b, "field_f1")
    assert result["n"] == 2 and result["mean_difference"] == pytest.approx(0.25)


def test_paired_comparison_all_equal_is_p_one_without_warnings(recwarn):
    rows_a, rows_b = _pairs([0.2, 0.4, 0.6], [0.2, 0.4, 0.6])
    result = paired_comparison(rows_a, rows_b, "quality_score")
    assert result["p_value"] == 1.0 and result["mean_difference"] == 0.0 and result["ci"] == [0.0, 0.0]
    assert "all differences zero" in result["test"]
    assert len(recwarn) == 0


def test_paired_comparison_no_pairs():
    result = paired_comparison([{"id": 1, "field_f1": 1.0}], [{"id": 2, "field_f1": 1.0}], "field_f1")
    assert result["n"] == 0 and result["p_value"] is None


def test_mcnemar_exact():
    # 6 rows only b parses, 0 only a, 4 both: exact two-sided p = 2 * 0.5**6.
    rows_a, rows_b = _pairs([False] * 6 + [True] * 4, [True] * 10, key="parse_ok")
    result = mcnemar(rows_a, rows_b)
    assert (result["n"], result["a_only"], result["b_only"]) == (10, 0, 6)
    assert result["p_value"] == pytest.approx(0.03125)
    assert result["mean_difference"] == pytest.approx(0.6)
    assert mcnemar(rows_b, rows_a)["p_value"] == pytest.approx(0.03125)
    assert mcnemar(rows_a, rows_a)["p_value"] == 1.0  # no discordant pairs
