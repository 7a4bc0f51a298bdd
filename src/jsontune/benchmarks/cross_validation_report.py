"""The cross-validation's deliverables: per-fold and pooled figures, complete - LoRA paired, the spread, a plot.

- Per fold, each method and decoding: rows, schema adherence, field F1 (means over the fold's rows), and the fold's
  wall time.
- Pooled, each method and decoding: the fold predictions put together, so every row is counted once; each figure's
  95% interval is a bootstrap over domains (`metrics.cluster_bootstrap_ci`), since one domain's rows are not
  independent of each other.
- Complete - LoRA, each decoding: over every pooled row, paired by id: the mean field F1 difference with its
  interval over domains, the Wilcoxon signed-rank test over rows, McNemar on schema validity; and across folds the
  per-fold differences, their range and how many favour each method.
- `cv_results.png`: per panel (schema adherence, field F1) each fold's figure as a point and the pooled mean with its
  interval, for each method and decoding. `cv_results.csv` holds every figure of the two tables,
  `cv_metadata.json` the settings, the domains of each fold and this machine's environment.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsontune.evaluation.environment import collect_environment
from jsontune.evaluation.metrics import cluster_bootstrap_ci, row_value
from jsontune.evaluation.report import BenchmarkRun
from jsontune.evaluation.significance import mcnemar, paired_comparison
from jsontune.evaluation.tables import csv_text, fmt, fmt_with_interval, markdown_table
from jsontune.files import atomic_write, write_text

FIGURES = ("schema_adherence", "field_f1", "parse_rate", "exact_match")
PLOTTED = ("schema_adherence", "field_f1")
NAMES = {"schema_adherence": "schema adherence", "field_f1": "field F1", "parse_rate": "parse rate",
         "exact_match": "exact match"}
FILES = {"report": "report.md", "csv": "cv_results.csv", "png": "cv_results.png", "metadata": "cv_metadata.json"}
BASE, OTHER = "lora", "complete"  # differences are complete - LoRA


@dataclass
class FoldResult:
    """One fold's evaluations: runs[(method, mode)], the domain of each test row id, and its wall time."""

    fold: int
    runs: dict[tuple[str, str], BenchmarkRun]
    domains: dict[str, str]
    wall_time_s: float


def _mean(rows: list[dict], name: str) -> float | None:
    return statistics.fmean(row_value(row, name) for row in rows) if rows else None


def _combinations(results: list[FoldResult]) -> list[tuple[str, str]]:
    return list(results[0].runs)


def pooled_rows(results: list[FoldResult], method: str, mode: str) -> tuple[list[dict], list[str]]:
    """Every fold's prediction rows of one method and decoding, and the domain of each."""
    rows, domains = [], []
    for result in results:
        for row in result.runs[method, mode].rows:
            rows.append(row)
            domains.append(result.domains[row["id"]])
    return rows, domains


def fold_table(results: list[FoldResult]) -> list[dict[str, Any]]:
    """One record per fold, method and decoding: rows, domains, the figures, the fold's wall time."""
    return [{"scope": f"fold {r.fold}", "method": method, "decoding": mode, "n": len(r.runs[method, mode].rows),
             "domains": len(set(r.domains.values())), "wall_time_s": r.wall_time_s,
             **{name: _mean(r.runs[method, mode].rows, name) for name in FIGURES}}
            for r in results for method, mode in r.runs]


def pooled_table(results: list[FoldResult], seed: int = 0) -> list[dict[str, Any]]:
    """One record per method and decoding over the pooled rows: each figure with its interval over domains."""
    table = []
    for method, mode in _combinations(results):
        rows, domains = pooled_rows(results, method, mode)
        record: dict[str, Any] = {"scope": "pooled", "method": method, "decoding": mode, "n": len(rows),
                                  "domains": len(set(domains))}
        for name in FIGURES:
            values = [row_value(row, name) for row in rows]
            record[name] = statistics.fmean(values)
            record[f"{name}_low"], record[f"{name}_high"] = cluster_bootstrap_ci(values, domains, seed=seed)
        table.append(record)
    return table


def complete_minus_lora(results: list[FoldResult], mode: str, seed: int = 0) -> dict[str, Any]:
    """Complete - LoRA in one decoding: field F1 over the pooled rows (Wilcoxon, interval over domains), schema
    validity (McNemar), and the per-fold differences of field F1."""
    lora, domains = pooled_rows(results, BASE, mode)
    complete, _ = pooled_rows(results, OTHER, mode)
    f1 = paired_comparison(lora, complete, "field_f1", seed=seed)
    by_id = {row["id"]: row for row in complete}
    differences = [row_value(by_id[row["id"]], "field_f1") - row_value(row, "field_f1") for row in lora]
    f1["domain_ci"] = cluster_bootstrap_ci(differences, domains, seed=seed)
    per_fold = [_mean(r.runs[OTHER, mode].rows, "field_f1") - _mean(r.runs[BASE, mode].rows, "field_f1")
                for r in results]
    return {"decoding": mode, "field_f1": f1, "schema_valid": mcnemar(lora, complete, "schema_valid"),
            "per_fold_field_f1": per_fold, "folds_complete_ahead": sum(d > 0 for d in per_fold),
            "folds_lora_ahead": sum(d < 0 for d in per_fold)}


def _modes(results: list[FoldResult]) -> list[str]:
    return list(dict.fromkeys(mode for _, mode in _combinations(results)))


def _report(results: list[FoldResult], folds: list[dict], pooled: list[dict], paired: list[dict],
            context: dict) -> str:
    split = context.get("split", {})
    lines = ["# jsontune cross-validation: complete vs LoRA over every domain", "",
             f"{len(results)} folds of whole domains (`domain_folds`, seed {split.get('seed')}): each fold's domains "
             "are held out from both trainings and scored by them; every domain is held out once. Training rows "
             f"per domain: {split.get('max_train_rows_per_domain') or 'all'}; held-out rows per domain: "
             f"{split.get('max_held_out_rows_per_domain') or 'all'}. Recipes: "
             + ", ".join(f"{method} `{path}`" for method, path in context.get("recipes", {}).items())
             + f". Wall time of this run: {context.get('wall_time_s', 0) / 60:.1f} min"
             + (" (debug: 2 steps, 3 rows per label)" if context.get("debug") else "") + ".", "",
             "## Pooled", "", "Every row once; 95% intervals by bootstrap over domains.", ""]
    lines += markdown_table(
        ["method", "decoding", "rows", "domains", *(NAMES[name] for name in FIGURES)],
        [[r["method"], r["decoding"], str(r["n"]), str(r["domains"]),
          *(fmt_with_interval(r[name], r[f"{name}_low"], r[f"{name}_high"]) for name in FIGURES)] for r in pooled])
    lines += ["", "## Complete - LoRA", "",
              "Paired by row over the pooled rows: field F1 difference (interval over domains; Wilcoxon signed-rank "
              "over rows), schema validity (exact McNemar); then the per-fold field F1 differences.", ""]
    body = []
    for p in paired:
        f1, valid = p["field_f1"], p["schema_valid"]
        low, high = f1["domain_ci"]
        body.append([p["decoding"], str(f1["n"]), f"{fmt(f1['mean_difference'])} [{fmt(low)}, {fmt(high)}]",
                     fmt(f1["p_value"]), f"{fmt(valid['mean_difference'])} ({valid['b_only']} vs {valid['a_only']})",
                     fmt(valid["p_value"]), ", ".join(fmt(d) for d in p["per_fold_field_f1"]),
                     f"{p['folds_complete_ahead']} / {p['folds_lora_ahead']}"])
    lines += markdown_table(["decoding", "rows", "field F1 difference", "Wilcoxon p", "schema validity difference "
                             "(rows only complete / only LoRA valid)", "McNemar p", "per fold", "folds complete / "
                             "LoRA ahead"], body)
    lines += ["", "## Per fold", ""]
    header = ["fold", "domains", "rows", "wall time (min)"]
    combos = _combinations(results)
    header += [f"{method} {mode} {NAMES[name]}" for method, mode in combos for name in PLOTTED]
    rows = []
    for r in results:
        figures = [fmt(_mean(r.runs[method, mode].rows, name)) for method, mode in combos for name in PLOTTED]
        rows.append([str(r.fold), str(len(set(r.domains.values()))), str(len(r.domains)),
                     f"{r.wall_time_s / 60:.1f}", *figures])
    lines += markdown_table(header, rows)
    lines += ["", "## Domains of each fold", ""]
    for r in results:
        lines.append(f"- fold {r.fold}: " + ", ".join(sorted(set(r.domains.values()))))
    return "\n".join(lines) + "\n"


def _figure(results: list[FoldResult], pooled: list[dict]):
    from matplotlib.figure import Figure

    combos = _combinations(results)
    fig = Figure(figsize=(5 + 1.2 * len(combos), 4.2), layout="constrained")
    axes = fig.subplots(1, len(PLOTTED))
    for ax, name in zip(axes, PLOTTED):
        for x, (method, mode) in enumerate(combos):
            points = [_mean(r.runs[method, mode].rows, name) for r in results]
            offsets = [x - 0.15 + 0.3 * i / max(1, len(points) - 1) for i in range(len(points))]
            ax.scatter(offsets, points, s=14, color="0.55", zorder=2, label="a fold" if x == 0 else None)
            record = next(r for r in pooled if (r["method"], r["decoding"]) == (method, mode))
            mean, low, high = record[name], record[f"{name}_low"], record[f"{name}_high"]
            ax.errorbar([x], [mean], yerr=[[mean - low], [high - mean]], fmt="o", color="C0" if method == "lora"
                        else "C1", capsize=5, markersize=7, zorder=3, label="pooled, 95% CI over domains" if x == 0
                        else None)
        ax.set_xticks(range(len(combos)), [f"{method}\n{mode}" for method, mode in combos])
        ax.set_ylim(0, 1.02)
        ax.set_title(NAMES[name])
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"Cross-validation over domains, {len(results)} folds")
    return fig


def write_cv_report(out_dir: Path, results: list[FoldResult], context: dict, seed: int = 0) -> dict[str, Path]:
    """Write report.md, cv_results.csv, cv_results.png and cv_metadata.json to out_dir; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in FILES.items()}
    folds, pooled = fold_table(results), pooled_table(results, seed)
    paired = [complete_minus_lora(results, mode, seed) for mode in _modes(results)]
    fig = _figure(results, pooled)
    atomic_write(paths["png"], lambda tmp: fig.savefig(tmp, format="png"))
    write_text(paths["csv"], csv_text(folds + pooled))
    metadata = {**context, "pooled": pooled, "complete_minus_lora": paired,
                "folds_detail": [{"fold": r.fold, "wall_time_s": r.wall_time_s,
                                  "domains": sorted(set(r.domains.values())), "rows": len(r.domains)}
                                 for r in results],
                "environment": collect_environment(), "files": {key: path.name for key, path in paths.items()}}
    write_text(paths["metadata"], json.dumps(metadata, indent=2, ensure_ascii=False, default=str) + "\n")
    write_text(paths["report"], _report(results, folds, pooled, paired, context))
    return paths
