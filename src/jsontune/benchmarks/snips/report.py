"""The SNIPS benchmark's deliverables, beside the published NLU engines.

`write_snips_report(out_dir, points, context)` takes one `CurvePoint` per method x size x decoding
mode and writes, each atomically:

- learning_curve.csv   one row per point (slot F1 with its 95% CI, precision, recall, intent
                       accuracy, validity, training and decoding cost), then the published engines
- per_intent.csv       the same figures for each intent of each point
- learning_curve.png   slot F1 against training queries per intent: ours with CI bars, theirs as markers
- metadata.json        the run's context (recipes, split, record ids, timings) and this machine
- report.md            the tables, the plot, the protocol and how to read the comparison

Every figure comes from `jsontune.evaluation.metrics.aggregate`, by both protocols of
`jsontune.evaluation.slot_metrics`: the published one (snips-nlu-metrics: a misclassified query's slots are not
scored), which the engines' figures were made by and which the plot shows, and ours (every query's slots count).
Nothing here re-implements a metric.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jsontune.evaluation.environment import collect_environment
from jsontune.evaluation.metrics import aggregate
from jsontune.evaluation.tables import MISSING, csv_text, fmt, fmt_with_interval, interval, markdown_table
from jsontune.files import atomic_write, write_text
from jsontune.run_dir import REPORT_FILE

CSV_FILE = "learning_curve.csv"
PER_INTENT_FILE = "per_intent.csv"
PNG_FILE = "learning_curve.png"
METADATA_FILE = "metadata.json"

# Slot F1 of the engines on the benchmark's own validation files (100 queries per intent), from the
# `*_metrics.json` files of sonos/nlu-benchmark, 2017-06-custom-intent-engines (commit b86ac7f), by
# the protocol of jsontune.evaluation.slot_metrics; as tabled in the README of the source data. "Full" is about 2,000
# training queries per intent.
PUBLISHED_SOURCE = "sonos/nlu-benchmark 2017-06-custom-intent-engines (commit b86ac7f), validation files"
FULL_PER_INTENT = 2000
PUBLISHED: tuple[tuple[str, int, float], ...] = (
    ("Snips NLU", FULL_PER_INTENT, 0.940),
    ("Snips NLU", 70, 0.826),
    ("api.ai", 70, 0.744),
    ("Luis", 70, 0.723),
    ("Wit", 70, 0.651),
    ("Alexa", 70, 0.588),
)
METHOD_NAMES = {"lora": "LoRA", "complete": "complete"}
FIGURES = ("slot_f1_published", "slot_precision_published", "slot_recall_published", "slot_f1", "slot_precision",
           "slot_recall", "intent_accuracy", "parse_rate", "schema_adherence", "exact_match")
PLOTTED = "slot_f1_published"  # the engines' protocol, so that the curve and their markers compare
# Sizes at or above this are drawn in the plot's narrow right-hand panel (the whole pool, ~2,000 per intent), so
# that 10-70 per intent get the width.
WHOLE_POOL_PANEL_FROM = 500


@dataclass
class CurvePoint:
    """One model (method, training queries per intent) evaluated with one decoding mode."""

    method: str
    size: str  # "10", ..., or "all"
    mode: str
    metrics: dict[str, Any]
    rows: list[dict]

    @property
    def name(self) -> str:
        return f"{METHOD_NAMES.get(self.method, self.method)} {self.size}/intent, {self.mode}"

    @property
    def per_intent(self) -> float:
        """Training queries per intent, as a number ("all": the mean the model was trained on)."""
        if self.size != "all":
            return float(self.size)
        training = self.metrics.get("training") or {}
        intents = len({row["reference"]["intent"] for row in self.rows}) or 1
        return training.get("train_examples", FULL_PER_INTENT * intents) / intents


def _figures(metrics: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"n": metrics.get("n")}
    for name in FIGURES:
        out[name] = metrics.get(name)
        out[f"{name}_low"], out[f"{name}_high"] = interval(metrics, name)
    return out


def curve_table(points: list[CurvePoint]) -> list[dict[str, Any]]:
    """One CSV row per point, then one per published engine."""
    table = []
    for point in points:
        training = point.metrics.get("training") or {}
        latency = point.metrics.get("latency_s") or {}
        table.append({
            "source": "jsontune", "method": point.method, "per_intent": point.size,
            "train_queries_per_intent": round(point.per_intent, 1), "decoding": point.mode,
            **_figures(point.metrics),
            "train_examples": training.get("train_examples"), "train_runtime_s": training.get("train_runtime_s"),
            "trainable_parameters": point.metrics.get("trainable_parameters"),
            "model_size_mb": point.metrics.get("model_size_mb"),
            "eval_wall_time_s": point.metrics.get("wall_time_s"),
            "latency_p50_s": latency.get("p50"),
            "generated_tokens_per_second": point.metrics.get("generated_tokens_per_second"),
        })
    for engine, per_intent, f1 in PUBLISHED:
        table.append({"source": "published", "method": engine,
                      "per_intent": "full" if per_intent == FULL_PER_INTENT else str(per_intent),
                      "train_queries_per_intent": per_intent, "slot_f1_published": f1})
    return table


def per_intent_table(points: list[CurvePoint]) -> list[dict[str, Any]]:
    """One row per point and reference intent: the protocol's figures over that intent's queries."""
    table = []
    for point in points:
        intents = sorted({row["reference"]["intent"] for row in point.rows})
        for intent in intents:
            rows = [row for row in point.rows if row["reference"]["intent"] == intent]
            table.append({"method": point.method, "per_intent": point.size, "decoding": point.mode,
                          "intent": intent, **_figures(aggregate(rows))})
    return table


# ---------------------------------------------------------------------------------------------------------------------
# Plot


def _figure(points: list[CurvePoint], split: str = "test"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Two panels on one y axis: the learning curve (log scale), and a narrow one for the whole pool, which on one
    # axis would leave the space between 70 and 2,000 per intent empty.
    fig, (curve, pool) = plt.subplots(1, 2, figsize=(10, 5.5), sharey=True, layout="constrained",
                                      gridspec_kw={"width_ratios": [4, 1]})
    series: dict[tuple[str, str], list[CurvePoint]] = {}
    for point in points:
        series.setdefault((point.method, point.mode), []).append(point)
    colours = {"lora": "tab:blue", "complete": "tab:orange"}
    # Side by side at each size; the engines sit further left.
    dodge = {("lora", "greedy"): 0.95, ("lora", "constrained"): 0.99, ("complete", "greedy"): 1.03,
             ("complete", "constrained"): 1.07}
    for (method, mode), members in series.items():
        colour = colours.get(method, "tab:green")
        style = {"color": colour, "capsize": 4, "linewidth": 2, "markersize": 7,
                 "linestyle": "-" if mode == "constrained" else "--", "marker": "o" if method == "lora" else "s",
                 "markerfacecolor": colour if mode == "constrained" else "white"}
        label: str | None = f"jsontune {METHOD_NAMES.get(method, method)}, {mode} (95% CI)"
        for ax in (curve, pool):
            on_panel = [p for p in sorted(members, key=lambda p: p.per_intent)
                        if (p.per_intent >= WHOLE_POOL_PANEL_FROM) == (ax is pool)]
            if not on_panel:
                continue
            y = [p.metrics.get(PLOTTED) or 0.0 for p in on_panel]
            bounds = [interval(p.metrics, PLOTTED) for p in on_panel]
            errors = [[v - (lo if lo is not None else v) for v, (lo, _) in zip(y, bounds)],
                      [(hi if hi is not None else v) - v for v, (_, hi) in zip(y, bounds)]]
            x = [p.per_intent * dodge.get((method, mode), 1.0) for p in on_panel]
            ax.errorbar(x, y, yerr=errors, **style, label=label)
            label = None  # one legend entry a series
    markers = {"Snips NLU": "*", "api.ai": "D", "Luis": "^", "Wit": "v", "Alexa": "P"}
    engines: dict[str, list[tuple[int, float]]] = {}
    for engine, per_intent, f1 in PUBLISHED:
        engines.setdefault(engine, []).append((per_intent, f1))
    for engine, figures in engines.items():
        # The figures go in the legend: written beside the markers, they run into our points at 50 per intent.
        label = f"{engine} (published): " + ", ".join(f"{f1:.3f} at {n}" for n, f1 in sorted(figures))
        for ax in (curve, pool):
            on_panel = [(n, f1) for n, f1 in figures if (n >= WHOLE_POOL_PANEL_FROM) == (ax is pool)]
            if on_panel:
                ax.scatter([n * 0.85 for n, _ in on_panel], [f1 for _, f1 in on_panel], marker=markers.get(engine, "x"),
                           s=70, color="dimgray", zorder=3, label=label)
                label = None
    small = sorted({10, 20, 50, 70, *(round(p.per_intent) for p in points if p.per_intent < WHOLE_POOL_PANEL_FROM)})
    curve.set_xscale("log")
    curve.set_xticks(small, [str(t) for t in small])
    curve.set_xlim(small[0] * 0.8, small[-1] * 1.15)
    # One tick: ours and theirs differ in pool size (~1,840 against ~2,000 per intent), which the title says.
    pooled = [round(p.per_intent) for p in points if p.per_intent >= WHOLE_POOL_PANEL_FROM]
    pool.set_xticks([FULL_PER_INTENT], ["whole pool"])
    pool.set_xlim(FULL_PER_INTENT * 0.7, FULL_PER_INTENT * 1.3)
    sizes = (f"ours ~{min(pooled):,}, " if pooled else "") + f"theirs ~{FULL_PER_INTENT:,}"
    pool.set_title(f"{sizes}\nper intent", fontsize=9)
    for ax in (curve, pool):
        ax.minorticks_off()
        ax.grid(True, alpha=0.3)
    curve.set_xlabel("training queries per intent (log scale)")
    curve.set_ylabel("slot F1 (published SNIPS protocol, mean over 7 intents)")
    curve.set_ylim(0, 1)
    fig.suptitle("SNIPS slot filling: jsontune on SmolLM2-135M vs the published NLU engines\n"
                 f"(ours: our {split} split, carved from the training files; theirs: the held-out validation files)",
                 fontsize=10)
    handles, labels = curve.get_legend_handles_labels()
    more = pool.get_legend_handles_labels()
    curve.legend(handles + more[0], labels + more[1], fontsize=8, loc="lower right")
    return fig


def write_plot(path: Path, points: list[CurvePoint], split: str = "test") -> Path:
    import matplotlib.pyplot as plt

    fig = _figure(points, split)
    try:
        return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------------------------------------------------
# Report


def _with_ci(row: dict, name: str) -> str:
    return fmt_with_interval(row.get(name), row.get(f"{name}_low"), row.get(f"{name}_high"))


def _sizes(points: list[CurvePoint]) -> list[str]:
    return sorted({p.size for p in points}, key=lambda s: float("inf") if s == "all" else int(s))


def _curve_rows(ours: list[dict], sizes: list[str], figure: str) -> list[list[str]]:
    """One row per (method, decoding): the figure with its interval at each size."""
    rows = []
    for key in dict.fromkeys((row["method"], row["decoding"]) for row in ours):
        cells = {row["per_intent"]: _with_ci(row, figure) for row in ours if (row["method"], row["decoding"]) == key}
        rows.append([f"jsontune {METHOD_NAMES.get(key[0], key[0])}, {key[1]}", *(cells.get(s, MISSING) for s in sizes)])
    return rows


def _published_rows(sizes: list[str]) -> list[list[str]]:
    cells: dict[str, dict[str, str]] = {}
    for engine, size, f1 in PUBLISHED:
        cells.setdefault(engine, {})["all" if size == FULL_PER_INTENT else str(size)] = f"{f1:.3f}"
    return [[f"{engine} (published)", *(row.get(s, MISSING) for s in sizes)] for engine, row in cells.items()]


def _report_text(points: list[CurvePoint], table: list[dict], per_intent: list[dict], context: dict) -> str:
    ours = [row for row in table if row["source"] == "jsontune"]
    sizes = _sizes(points)
    split = context.get("split", "test")
    minutes = (context.get("timings") or {}).get("total_s", 0) / 60
    lines = [
        "# SNIPS slot filling: learning curve",
        "",
        f"{context.get('records', '?')} queries of the {split} split ({context.get('split_settings', {})}), "
        "scored by two protocols (below): the published one, which the engines' figures were made by, and ours. "
        f"Wall time of this run: {minutes:.1f} min (models and evaluations reused from an earlier run take no time "
        "here); each model's training and evaluation time is in the table of every run.",
        "",
        f"![slot F1 against training queries per intent]({PNG_FILE})",
        "",
        "## Slot F1 by training queries per intent (95% bootstrap CI)",
        "",
        "### The published protocol: a misclassified query's slots are not scored",
        "",
    ]
    with_pool = sizes if "all" in sizes else [*sizes, "all"]  # the engines' strongest figure, whether we ran it or not
    lines += markdown_table(["model", *(f"{s}/intent" for s in with_pool)],
                            _curve_rows(ours, with_pool, "slot_f1_published") + _published_rows(with_pool))
    lines += ["", "Published engines: their own validation files (~2,000 training queries per intent for "
              f"\"all\"); no intervals were published. Ours: the {split} split here, so the two are comparable in "
              "task and protocol, not in test queries.", "",
              "### Ours: every query's slots count, under its gold intent", ""]
    lines += markdown_table(["model", *(f"{s}/intent" for s in sizes)], _curve_rows(ours, sizes, "slot_f1"))
    lines += ["", "## Every run", ""]
    body = [[f"{METHOD_NAMES.get(r['method'], r['method'])} {r['per_intent']}", r["decoding"], str(r["n"]),
             _with_ci(r, "slot_f1_published"), _with_ci(r, "slot_f1"), fmt(r["slot_precision"]),
             fmt(r["slot_recall"]), _with_ci(r, "intent_accuracy"), fmt(r["parse_rate"]), fmt(r["schema_adherence"]),
             fmt(r["exact_match"]), fmt(r["train_runtime_s"], 0), fmt(r["eval_wall_time_s"], 0)] for r in ours]
    lines += markdown_table(["model", "decoding", "n", "slot F1 (published)", "slot F1 (ours)", "slot P (ours)",
                             "slot R (ours)", "intent accuracy", "parse", "span schema", "exact", "train s", "eval s"],
                            body)
    lines += ["", "## Per intent: slot F1, published protocol", ""]
    run_keys = list(dict.fromkeys((r["method"], r["per_intent"], r["decoding"]) for r in per_intent))
    intents = list(dict.fromkeys(r["intent"] for r in per_intent))
    by_key = {(r["method"], r["per_intent"], r["decoding"], r["intent"]): r for r in per_intent}
    header = ["intent", *(f"{METHOD_NAMES.get(m, m)} {s} {d}" for m, s, d in run_keys)]
    for figure, title in (("slot_f1_published", None), ("slot_f1", "## Per intent: slot F1, ours"),
                          ("intent_accuracy", "## Per intent: intent accuracy")):
        if title:
            lines += ["", title, ""]
        body = [[intent, *(fmt(by_key[(*key, intent)][figure]) if (*key, intent) in by_key else MISSING
                           for key in run_keys)] for intent in intents]
        lines += markdown_table(header, body)
    lines += ["", "The same figures with their intervals: per_intent.csv.", "", PROTOCOL_TEXT]
    return "\n".join(lines) + "\n"


PROTOCOL_TEXT = """## Protocol

- **Slot F1, published protocol** (`jsontune.evaluation.slot_metrics.published_slot_counts`): each query is
  counted as snips-nlu-metrics counts it, the tool of the published benchmark. A query whose predicted intent
  is wrong (or whose answer cannot be read) is not scored for slots at all; otherwise a gold value is a true
  positive when the answer gives its slot that exact value (no case folding), else a false negative, and a
  predicted value that no gold value of its slot equals is a false positive. Then, per intent and slot name,
  precision = tp / (tp + fp), recall = tp / (tp + fn) (0 when tp = 0), F1 their harmonic mean; an intent's
  figure is the mean of its slots' F1 weighted by how often each slot occurs in the gold answers, and the
  reported figure is the mean over the intents, as the engines' per-slot figures were averaged. The 2017
  benchmark trained and tested each engine on one intent at a time, so its engines never misclassified.
- **Slot F1, ours** (`slot_counts`): every query's slots count, under its gold intent, whatever intent was
  predicted, so a misclassified query costs its slots; values match after case folding and whitespace
  collapsing, as multisets (a slot given twice counts twice). The same weighting and mean.
- **95% CI**: percentile bootstrap over queries (1,000 resamples, seed 0), the whole protocol
  recomputed on each resample.
- **Decoding**: `greedy` is unconstrained; `constrained` masks every token that would leave the query's
  span schema (`jsontune.benchmarks.snips.span_schema`): the answer must be `{"intent": I, "slots": {...}}` for one of
  the 7 intents, with only I's slot names, in any order, each value a span of the query. The schema
  offers all 7 intents, so it does not give the intent away. "span schema" in the tables is the share
  of answers that follow that schema.
- **Split** (`jsontune.benchmarks.snips.split`): per intent, the records are shuffled with the split seed; the
  first 100 distinct queries (case and whitespace ignored) are the test split, the next 20 the dev
  split; every other record whose query is not among them is the training pool, and a size of N takes
  the pool's first N, so the sizes are nested and never touch a test or dev query. The published
  validation files are not used anywhere.
"""


# ---------------------------------------------------------------------------------------------------------------------
# Entry point


def write_snips_report(out_dir: Path, points: list[CurvePoint], context: dict) -> dict[str, Path]:
    """Write the five files to out_dir; return their paths by kind (csv, per_intent, png, metadata, report)."""
    out_dir = Path(out_dir)
    paths = {"csv": out_dir / CSV_FILE, "per_intent": out_dir / PER_INTENT_FILE, "png": out_dir / PNG_FILE,
             "metadata": out_dir / METADATA_FILE, "report": out_dir / REPORT_FILE}
    table = curve_table(points)
    per_intent = per_intent_table(points)
    write_text(paths["csv"], csv_text(table))
    write_text(paths["per_intent"], csv_text(per_intent))
    write_plot(paths["png"], points, context.get("split", "test"))
    metadata = {**context, **collect_environment(), "published": {"source": PUBLISHED_SOURCE, "slot_f1": PUBLISHED},
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "files": {key: path.name for key, path in paths.items()}}
    write_text(paths["metadata"], json.dumps(metadata, indent=2, ensure_ascii=False, default=str) + "\n")
    write_text(paths["report"], _report_text(points, table, per_intent, context))
    return paths
