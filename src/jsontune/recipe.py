"""Recipes: YAML files whose keys are TRL's `SFTConfig` / `ModelConfig` names, plus a `jsontune:` section.

A recipe is parsed with TRL's own parser (`TrlParser`, an `HfArgumentParser`), so every value gets
the type checks of the command line. `--key value` overrides follow the recipe. Every mistake (an
unknown key, a bad type, a missing data file, a split builder's bad option) is a `RecipeError` naming
the recipe, line and key, raised before any model is loaded. A loaded `Recipe` answers what the recipe
means for the rest of the flow: its data splits, its prompt settings, and itself as it ran (`save`).
"""

from __future__ import annotations

import difflib
import enum
import importlib.util
import json
import logging
import re
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml
from trl import ModelConfig, SFTConfig, TrlParser

from jsontune.data.prompting import (
    DEFAULT_SCHEMA_FORMAT,
    DEFAULT_SCHEMA_IN_PROMPT,
    PromptConfig,
    choose_prompt_config,
)
from jsontune.data.schema_rendering import SCHEMA_FORMATS
from jsontune.data.sources import SourceError, data_source, is_hub_dataset
from jsontune.data.splits import (
    NAME_KEY,
    SplitError,
    Splits,
    build_splits,
    load_splits,
    normalised_split,
    retired_key_hints,
)
from jsontune.decoding.constrained.bounds import Bounds
from jsontune.decoding.defaults import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_TEMPERATURES,
)
from jsontune.errors import JsontuneError, MissingFileError
from jsontune.files import write_text
from jsontune.models.base_model import EMBEDDED_MODELS
from jsontune.models.credentials import is_secret_key, redact, secret_in
from jsontune.models.loading import is_hub_id
from jsontune.run_dir import RECIPE_FILE

logger = logging.getLogger(__name__)

JSONTUNE_SECTION = "jsontune"
SPLIT_KEY = "split"
DATA_FILES_KEY = "data_files"


@dataclass
class JsontuneArguments:
    """The jsontune section of a recipe: data and prompt rendering."""

    data_files: list[str] = field(
        default_factory=lambda: ["data/synthetic/records.jsonl"],
        metadata={"help": "Data sources (README, \"Data format\"): JSONL files of records, or in a recipe mappings "
                          "{path, name, split, revision, format, columns, limit, weight} for JSON/CSV/Parquet files, "
                          "folders and Hub datasets (jsontune.data.sources). Each is split into train/test on its "
                          "own, unless a split builder says otherwise."},
    )
    split: dict | None = field(
        default=None,
        metadata={"help": "A named split builder and its options, {name: BUILDER, option: value, ...}, instead of "
                          "the per-file split (jsontune.data.splits): a dataset's own fixed test split, nested "
                          "training sizes. test_fraction and the row limits are then not used. On the command "
                          "line, a JSON object."},
    )
    test_fraction: float = field(default=0.1, metadata={"help": "Share of each file held out as the test split."})
    split_seed: int = field(default=42, metadata={"help": "Seed of the train/test split."})
    max_train_rows_per_file: list[int] | None = field(
        default=None,
        metadata={"help": "Use at most this many training rows of each file (seeded choice): one number for "
                          "every file, or one per file in data_files order."},
    )
    max_test_rows_per_file: list[int] | None = field(
        default=None, metadata={"help": "Evaluate on at most this many test rows of each file (as above)."}
    )
    on_bad_rows: Literal["error", "skip"] = field(
        default="error", metadata={"help": "'error': a bad data row stops the run; 'skip': skip and report."}
    )
    length_bucket_window: int = field(
        default=4,
        metadata={"help": "Form each training batch from rows of similar length, sorting windows of this many "
                          "batches of random rows, then shuffling the batches (less padding, random order). "
                          "0: use the trainer's train_sampling_strategy instead."},
    )
    prompt_format: Literal["auto", "chat", "plain"] = field(
        default="auto",
        metadata={"help": "'chat' uses the tokenizer's chat template, 'plain' a text format; 'auto' picks chat "
                          "when the tokenizer has a template."},
    )
    system_prompt: str | None = field(default=None, metadata={"help": "System prompt; none by default."})
    schema_in_prompt: bool = field(
        default=DEFAULT_SCHEMA_IN_PROMPT,
        metadata={"help": "Write the record's JSON Schema into the prompt (as schema_format says)."},
    )
    schema_format: Literal[SCHEMA_FORMATS] = field(
        default=DEFAULT_SCHEMA_FORMAT,
        metadata={"help": "How schema_in_prompt writes the schema: 'json_schema' (compact JSON Schema), 'template' "
                          "(the answer's skeleton with each value's type), 'marked_template' (the same, optional "
                          "keys marked), 'described_template' (the same with each value's notes: optional, default, pattern, "
                          "description), 'noted_template' (the template, then those notes a line per key) or "
                          "'outline' (a line per key: type, required or optional, description); "
                          "see jsontune.data.schema_rendering."},
    )
    eval_batch_size: int = field(default=DEFAULT_BATCH_SIZE,
                                 metadata={"help": "Rows decoded together at most during evaluation (continuous "
                                                   "batching: a finished row's slot goes to the next prompt)."})
    eval_max_new_tokens: int = field(default=DEFAULT_MAX_NEW_TOKENS,
                                     metadata={"help": "Token budget of one generated answer."})
    eval_decoding: Literal["greedy", "progressive"] = field(
        default="progressive",
        metadata={"help": "Decoding of the benchmark: 'progressive' answers greedily, then retries invalid answers "
                          "with sampling at eval_temperatures (its greedy results are reported too)."},
    )
    eval_temperatures: list[float] = field(
        default_factory=lambda: list(DEFAULT_TEMPERATURES),
        metadata={"help": "Temperatures of the progressive retries."}
    )
    eval_max_attempts: int | None = field(
        default=None, metadata={"help": "Answers per row at most, greedy included (default: 1 + the temperatures)."}
    )
    eval_constrained: bool = field(
        default=True,
        metadata={"help": "Also benchmark every model (base included) with grammar-constrained decoding, beside "
                          "the unconstrained runs (jsontune.decoding.constrained)."},
    )
    eval_grammar_backend: Literal[BACKENDS] = field(
        default=DEFAULT_BACKEND, metadata={"help": "Grammar backend of the constrained runs."}
    )
    eval_open_objects: bool = field(
        default=not Bounds.close_objects,
        metadata={"help": "Constrained runs: keep objects open where the schema leaves additionalProperties unset "
                          "(by default an object that lists its properties takes no others)."},
    )
    eval_constrained_max_new_tokens: int = field(
        default=256,
        metadata={"help": "Token budget of a constrained answer: one cut off is invalid (never repaired), and the "
                          "default bounds (jsontune.decoding.constrained.Bounds) let even the untrained model finish "
                          "within 256 tokens on the embedded test split."},
    )
    dev_rows: int = field(
        default=0,
        metadata={"help": "Hold this many training rows out as a dev set (seeded): with eval_strategy set, each "
                          "evaluation generates on them and logs eval_json_* metrics (parse rate, schema "
                          "adherence, field F1, quality score) next to the loss. 0: no dev set."},
    )
    min_train_steps: int = field(
        default=0,
        metadata={"help": "Train for at least this many optimizer steps: where num_train_epochs gives fewer (a small "
                          "training set), train for this many, cycling through the data. A max_steps of the recipe "
                          "wins. 0: no floor."},
    )
    max_train_seconds: float | None = field(
        default=None,
        metadata={"help": "Stop training after the optimizer step that reaches this many seconds of training "
                          "(jsontune.training.time_budget); the run is saved as usual. None: no time limit."},
    )
    rewards: list[str] = field(
        default_factory=lambda: ["strict_json", "schema_valid", "field_f1", "length_stop"],
        metadata={"help": "GRPO recipes (`jsontune grpo`): the rewards, in the order of reward_weights "
                          "(jsontune.training.rewards: strict_json, schema_valid, field_f1, slot_f1, length_stop)."},
    )
    early_stopping_patience: int | None = field(
        default=None,
        metadata={"help": "Stop after this many evaluations without improvement of metric_for_best_model (e.g. "
                          "json_field_f1); needs dev_rows and load_best_model_at_end, which keeps the best."},
    )


class RecipeError(JsontuneError):
    """A recipe or its overrides are wrong."""


class MissingRecipeError(RecipeError, MissingFileError):
    """The recipe path names no file."""


class _RecipeParser(TrlParser):
    """TrlParser that raises instead of printing usage and exiting, and takes option names whole: argparse's
    prefix matching would let `--hub_tok` through as `--hub_token`, past the check that keeps tokens out."""

    def __init__(self, dataclass_types):
        super().__init__(dataclass_types, allow_abbrev=False)

    def error(self, message: str):  # argparse calls this on every parse problem
        raise RecipeError(message)


@dataclass
class Recipe:
    path: Path
    training: SFTConfig  # or the config of the recipe's trainer (GRPOConfig for `jsontune grpo`)
    model: ModelConfig
    jsontune: JsontuneArguments
    set_keys: list[str]  # keys set by the recipe or an override, in order

    def splits(self) -> Splits:
        """The recipe's data split: by its split builder when it names one, else each data file on its own."""
        args = self.jsontune
        if args.split is not None:
            return build_splits(args.split, args.data_files, args.split_seed)
        return load_splits(args.data_files, args.test_fraction, args.split_seed, args.max_train_rows_per_file,
                           args.max_test_rows_per_file, args.on_bad_rows)

    def prompt_config(self, tokenizer) -> PromptConfig:
        """How the recipe renders a record for this tokenizer (its `auto` format resolved)."""
        args = self.jsontune
        return choose_prompt_config(tokenizer, args.prompt_format, args.system_prompt, args.schema_in_prompt,
                                    args.schema_format)

    def resolved(self) -> dict[str, Any]:
        """The recipe as it ran: every key that was set, with its final value, and the jsontune section."""
        out: dict[str, Any] = {}
        for key in self.set_keys:
            for obj in (self.model, self.training):
                if key in _field_names(type(obj)):
                    out[key] = _plain(getattr(obj, key))
        out[JSONTUNE_SECTION] = {f.name: _plain(getattr(self.jsontune, f.name)) for f in fields(JsontuneArguments)}
        return out

    def save(self, directory: str | Path, name: str = RECIPE_FILE) -> Path:
        path = Path(directory) / name
        script = "grpo" if type(self.training).__name__ == "GRPOConfig" else "sft"
        header = f"# resolved from {self.path}; rerun with: python scripts/{script}.py {path}\n"
        return write_text(path, header + yaml.safe_dump(self.resolved(), sort_keys=False, allow_unicode=True))


def jsontune_defaults() -> dict[str, Any]:
    """The jsontune section's default values, as `Recipe.resolved` writes them. A recipe saved before a key was
    added lacks that key; reading it as its default lets an older run be compared with today's recipe."""
    out = {}
    for f in fields(JsontuneArguments):
        if f.default is not MISSING:
            out[f.name] = _plain(f.default)
        elif f.default_factory is not MISSING:
            out[f.name] = _plain(f.default_factory())
    return out


def _plain(value: Any) -> Any:
    """A YAML-safe rendering of a config value (enums become their values)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _field_names(cls) -> set[str]:
    return {f.name for f in fields(cls) if f.init}


TRL_KEYS = _field_names(SFTConfig) | _field_names(ModelConfig)
JSONTUNE_KEYS = _field_names(JsontuneArguments)


def _key_lines(text: str) -> dict[str, int]:
    """1-based line of each top-level key, and of `jsontune.<key>` for the jsontune section."""
    lines: dict[str, int] = {}
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key_node, value_node in root.value:
        lines[key_node.value] = key_node.start_mark.line + 1
        if key_node.value == JSONTUNE_SECTION and isinstance(value_node, yaml.MappingNode):
            for sub_key, _ in value_node.value:
                lines[f"{JSONTUNE_SECTION}.{sub_key.value}"] = sub_key.start_mark.line + 1
    return lines


def _repeated_keys(node: yaml.Node, path: Path) -> list[str]:
    """'file:line: key is set twice' for every key a mapping (at any depth) repeats: YAML keeps the last one
    without a word, so a recipe that sets a value twice would silently run with the one the reader missed."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.value in first:
                problems.append(f"{path}:{line}: '{key_node.value}' is set twice (first at line "
                                f"{first[key_node.value]}); YAML would keep this one silently: delete one")
            first.setdefault(key_node.value, line)
            problems += _repeated_keys(value_node, path)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            problems += _repeated_keys(item, path)
    return problems


def _unknown_key_message(key: str, known: set[str], other: set[str], other_where: str) -> str:
    if key in other:
        return f"unknown key '{key}' here: it belongs {other_where}"
    if key in ("dataset_name", "dataset_config", "dataset_train_split", "dataset_test_split"):
        return (f"unknown key '{key}': jsontune reads its data from jsontune.data_files; a Hub dataset is a source "
                "there: [{path: OWNER/NAME, name: CONFIG, split: train, revision: main}]")
    # A known key that the typo extends ("lora_rank" -> "lora_r") beats mere spelling distance.
    prefixes = sorted((k for k in known if len(k) >= 4 and key.startswith(k)), key=len, reverse=True)
    close = prefixes[:1] or difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")


def _to_tokens(key: str, value: Any) -> list[str]:
    """Render one recipe value as command-line tokens, so argparse type-checks it like a flag."""
    flag = f"--{key}"
    if isinstance(value, bool):
        return [flag, "true" if value else "false"]
    if isinstance(value, list):
        return [flag, *(json.dumps(v) if isinstance(v, (dict, list)) else str(v) for v in value)]
    if isinstance(value, dict):
        return [flag, json.dumps(value)]
    return [flag, str(value)]


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    if path.is_dir():
        raise MissingRecipeError(f"{path}: is a folder, not a recipe file (a YAML file such as recipes/lora.yaml)")
    if not path.is_file():
        raise MissingRecipeError(f"{path}: no such recipe file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RecipeError(f"{path}:{line}: not UTF-8 (byte {err.start}: {err.reason}); save the recipe as "
                          "UTF-8") from None
    try:
        data = yaml.safe_load(text)
        key_lines = _key_lines(text)
        repeated = _repeated_keys(yaml.compose(text), path) if isinstance(data, dict) else []
    except yaml.YAMLError as err:
        raise RecipeError(_yaml_error_message(path, err)) from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe must be a YAML mapping of keys to values")
    if repeated:
        raise RecipeError("\n".join(repeated))
    return data, key_lines


def _yaml_error_message(path: Path, err: yaml.YAMLError) -> str:
    """file:line of a YAML error where the mistake starts: the scanner's context (the key that lacks its
    colon, the bracket left open) when it has one, since the problem mark is where it gave up, a line later."""
    problem, context = getattr(err, "problem_mark", None), getattr(err, "context_mark", None)
    mark = context or problem
    where = f"{path}:{mark.line + 1}" if mark else str(path)
    detail = getattr(err, "problem", None) or str(err)
    if context is not None and getattr(err, "context", None):
        detail += f" ({err.context}" + (f", up to line {problem.line + 1})" if problem else ")")
    return f"{where}: invalid YAML: {detail}"


def _override_keys(overrides: list[str]) -> list[str]:
    return [token[2:].split("=", 1)[0] for token in overrides if token.startswith("--")]


def _refuse_secrets(path: Path, key_lines: dict[str, int], data: dict[str, Any], section: dict[str, Any],
                    overrides: list[str]) -> None:
    """A recipe or an override that carries a credential stops here, named by where, never by value.

    The run would save it (recipe.yaml, training_args.bin); the refusal covers every key through which the
    libraries take a token (`jsontune.models.credentials.SECRET_KEYS`, at any depth, e.g. model_init_kwargs.token),
    every spelling of the option (dashes, `=`, prefixes), and any value shaped like a token.
    """
    hint = "a token does not belong in a recipe or an override; set HF_TOKEN or run `hf auth login`"
    known = TRL_KEYS | JSONTUNE_KEYS
    for key, value in [*data.items(), *((f"{JSONTUNE_SECTION}.{k}", v) for k, v in section.items())]:
        found = key if is_secret_key(key.split(".")[-1], known) else secret_in(value, key)
        if found:
            raise RecipeError(f"{path}:{key_lines.get(key, '?')}: {found}: {hint}")
    for position, token in enumerate(overrides):
        if token.startswith("--") and is_secret_key(token, known):
            raise RecipeError(f"the command line: {token.split('=', 1)[0]}: {hint}")
        value = token.partition("=")[2] if token.startswith("--") else token
        if secret_in(value) or secret_in(_json_or_none(value)):
            flag = next((t for t in reversed(overrides[:position + 1]) if t.startswith("--")), "an override")
            raise RecipeError(f"the command line: the value of {flag.split('=', 1)[0]} carries a credential: {hint}")


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def cpu_has_bf16_matmuls() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX tiles)."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def _device_tokens(user_keys: set[str]) -> list[str]:
    """Settings that depend on the hardware, applied unless the user set them (bf16 on CPU is kept only where the CPU
    has bf16 matmul instructions)."""
    import torch

    if torch.cuda.is_available():
        tokens = [] if "bf16" in user_keys else ["--bf16", "true" if torch.cuda.is_bf16_supported() else "false"]
        if "use_liger_kernel" not in user_keys and importlib.util.find_spec("liger_kernel") is not None:
            tokens += ["--use_liger_kernel", "true"]  # fused Triton kernels (RMSNorm, RoPE, SwiGLU, loss)
        return tokens
    # CPU: fp32 by default. bf16 autocast only where the recipe asks for it and the CPU multiplies bf16 in hardware
    # (AVX512-BF16 or AMX, which oneDNN uses); elsewhere it is emulated, slower than fp32. No fp16 kernels worth
    # having. Gradient checkpointing recomputes the forward pass to save memory a 135M model does not need
    # (`make bench` measures the whole path).
    tokens = ["--use_cpu", "true", "--fp16", "false"]
    if "bf16" not in user_keys or not cpu_has_bf16_matmuls():
        tokens += ["--bf16", "false"]
    if not user_keys & {"gradient_checkpointing", "activation_checkpointing"}:
        tokens += ["--activation_checkpointing", "false"]
    return tokens


def load_recipe(path: str | Path, overrides: list[str] | None = None, trainer_config: type = SFTConfig) -> Recipe:
    """Parse a recipe and `--key value` overrides into TRL's and jsontune's dataclasses: `trainer_config`
    (TRL's SFTConfig, or GRPOConfig for reinforcement), ModelConfig and the jsontune section."""
    path = Path(path)
    trl_keys = _field_names(trainer_config) | _field_names(ModelConfig)
    overrides = list(overrides or [])
    data, key_lines = _read_yaml(path)

    problems: list[str] = []
    section = data.pop(JSONTUNE_SECTION, None) or {}
    if not isinstance(section, dict):
        problems.append(f"{path}:{key_lines.get(JSONTUNE_SECTION, '?')}: '{JSONTUNE_SECTION}' must be a mapping")
        section = {}
    for key in data:
        if key not in trl_keys:
            message = _unknown_key_message(key, trl_keys, JSONTUNE_KEYS, f"in the '{JSONTUNE_SECTION}:' section")
            problems.append(f"{path}:{key_lines.get(key, '?')}: {message}")
    unknown = [key for key in section if key not in JSONTUNE_KEYS]
    try:
        retired = retired_key_hints() if unknown else {}
    except SplitError as err:  # an installed builder that does not load: say so, with the keys in question
        raise RecipeError(f"{path}: unknown key(s) {', '.join(unknown)} in the '{JSONTUNE_SECTION}:' section, and "
                          f"the split builders cannot be listed: {err}") from None
    for key in unknown:
        if key in retired:
            message = f"'{key}' was replaced by a split option: write {retired[key]}"
        else:
            message = _unknown_key_message(key, JSONTUNE_KEYS, trl_keys, "at the top level (a TRL key)")
        problems.append(f"{path}:{key_lines.get(f'{JSONTUNE_SECTION}.{key}', '?')}: {message}")
    if problems:
        raise RecipeError("\n".join(problems))
    _refuse_secrets(path, key_lines, data, section, overrides)
    split, split_where, overrides = _split_setting(path, key_lines, section, overrides)
    sources = section.get(DATA_FILES_KEY)
    if isinstance(sources, list) and any(isinstance(entry, dict) for entry in sources):
        section.pop(DATA_FILES_KEY)  # mappings, which argparse cannot parse: checked below
    else:
        sources = None

    parser = _RecipeParser((trainer_config, ModelConfig, JsontuneArguments))
    recipe_tokens: list[str] = []
    for key, value in {**data, **section}.items():
        if value is None or value == []:  # argparse cannot say these; set them as the default instead
            parser.set_defaults(**{key: value})
        else:
            recipe_tokens += _to_tokens(key, value)
    recipe_keys = [*data, *section]
    user_keys = list(dict.fromkeys([*recipe_keys, *_override_keys(overrides)]))
    try:  # the recipe alone first, so that its errors blame the recipe
        parser.parse_args_into_dataclasses(args=[*recipe_tokens, *_device_tokens(set(recipe_keys))])
    except (RecipeError, ValueError) as err:
        raise RecipeError(f"{_where_in_recipe(path, key_lines, str(err))}: {err}") from None
    try:
        training, model, jsontune = parser.parse_args_into_dataclasses(
            args=[*recipe_tokens, *overrides, *_device_tokens(set(user_keys))]
        )
    except (RecipeError, ValueError) as err:
        raise RecipeError(redact(f"{path} with overrides {' '.join(overrides)}: {err}")) from None

    _refuse_unhonoured_trl_keys(path, key_lines, training, user_keys)
    if sources is not None and DATA_FILES_KEY not in _override_keys(overrides):
        jsontune.data_files = _checked_sources(path, key_lines, sources, split is not None)
    if model.model_name_or_path is None:
        raise RecipeError(f"{path}: 'model_name_or_path' is required (a path, a Hub id or {sorted(EMBEDDED_MODELS)})")
    _check_model_reference(path, model.model_name_or_path)
    for key in ("max_train_rows_per_file", "max_test_rows_per_file"):
        limits = getattr(jsontune, key)
        if limits is not None and len(limits) not in (1, len(jsontune.data_files)):
            raise RecipeError(f"{path}: jsontune.{key} has {len(limits)} numbers for {len(jsontune.data_files)} "
                              "data files: give one number, or one per file")
    if split is not None:
        try:
            jsontune.split = normalised_split(split)
        except SplitError as err:
            raise RecipeError(f"{split_where}: jsontune.{SPLIT_KEY}: {err}") from None
    if jsontune.max_train_seconds is not None and jsontune.max_train_seconds <= 0:
        raise RecipeError(f"{path}: jsontune.max_train_seconds must be positive, not {jsontune.max_train_seconds}")
    if jsontune.min_train_steps < 0:
        raise RecipeError(f"{path}: jsontune.min_train_steps must be 0 or more, not {jsontune.min_train_steps}")
    for data_file in jsontune.data_files:
        if isinstance(data_file, str) and not Path(data_file).exists():
            raise RecipeError(f"{path}: jsontune.data_files: no such file or folder {data_file!r}")
    _check_dev_settings(path, training, jsontune)
    if getattr(training, "completion_only_loss", False) is None:
        # TRL guesses from a "prompt" column, which pre-tokenised rows lack: it would train on the prompt too.
        training.completion_only_loss = True
    if "include_num_input_tokens_seen" not in user_keys and hasattr(training, "padding_free"):
        # for the tokens/s figure; argparse can't say it
        # A padding-free row is all tokens; "non_padding" would count out every EOS, since pad is EOS here.
        unpadded = training.padding_free and training.pad_to_multiple_of is None
        training.include_num_input_tokens_seen = "all" if unpadded else "non_padding"
    if model.use_peft and training.ddp_find_unused_parameters is None:
        training.ddp_find_unused_parameters = False  # LoRA + DDP: frozen base weights are "unused" by design
    return Recipe(path=path, training=training, model=model, jsontune=jsontune, set_keys=user_keys)


def _where_in_recipe(path: Path, key_lines: dict[str, int], message: str) -> str:
    """file:line of the key an argparse message names ("argument --learning_rate: invalid float value")."""
    for flag in re.findall(r"--([A-Za-z_][\w-]*)", message):
        key = flag.replace("-", "_")
        line = key_lines.get(key) or key_lines.get(f"{JSONTUNE_SECTION}.{key}")
        if line:
            return f"{path}:{line}"
    return str(path)


def _split_setting(path: Path, key_lines: dict[str, int], section: dict[str, Any], overrides: list[str]
                   ) -> tuple[Any, str, list[str]]:
    """(the split mapping or None, where it was set, the overrides without it).

    A split is a mapping, which argparse cannot parse: it is taken out of the section (and `--split JSON` out
    of the overrides, the later one winning) and checked by its builder once the rest has parsed.
    """
    split = section.pop(SPLIT_KEY, None)
    where = f"{path}:{key_lines.get(f'{JSONTUNE_SECTION}.{SPLIT_KEY}', '?')}"
    rest: list[str] = []
    tokens = iter(overrides)
    for token in tokens:
        flag, _, inline = token.partition("=")
        if flag != f"--{SPLIT_KEY}":
            rest.append(token)
            continue
        text = inline if inline else next(tokens, "")
        try:
            split = json.loads(text)
        except json.JSONDecodeError as err:
            raise RecipeError(f"the command line: --{SPLIT_KEY} takes a JSON object, e.g. "
                              f"'{{\"{NAME_KEY}\": \"BUILDER\"}}', not {text!r} ({err.msg})") from None
        where = "the command line"
    if split is not None and not isinstance(split, dict):
        raise RecipeError(f"{where}: jsontune.{SPLIT_KEY} must be a mapping {{{NAME_KEY}: BUILDER, option: value, "
                          f"...}}, not {split!r}")
    return split, where, rest


# TRL keys that jsontune does not honour, and what to use instead (a recipe that sets one is refused, not ignored).
UNHONOURED_TRL_KEYS = {
    "assistant_only_loss": "jsontune computes the loss on the answer alone already (each row's JSON and its "
                           "end-of-turn token, the completion mask); drop it",
    "dataset_text_field": "jsontune builds each example from its prompt and reference; map your columns onto them "
                          "with a data source, jsontune.data_files: [{path: FILE, columns: {prompt: COLUMN, "
                          "reference: COLUMN}}]",
}


def _refuse_unhonoured_trl_keys(path: Path, key_lines: dict[str, int], training: SFTConfig,
                                user_keys: list[str]) -> None:
    for key, instead in UNHONOURED_TRL_KEYS.items():
        if key in user_keys and getattr(training, key, False) is not False:  # setting it false asks for nothing
            raise RecipeError(f"{path}:{key_lines.get(key, '?')}: {key} is not used by jsontune: {instead}")
    template = getattr(training, "chat_template_path", None)
    if template is not None and not (Path(template).is_file() and template.endswith((".jinja", ".j2"))):
        raise RecipeError(f"{path}:{key_lines.get('chat_template_path', '?')}: chat_template_path must be a Jinja "
                          f"template file (.jinja), not {template!r}: cloning another tokenizer's template adds "
                          "tokens after jsontune has tokenised the data")


def _checked_sources(path: Path, key_lines: dict[str, int], sources: list, split_builder: bool) -> list:
    """The recipe's data sources, checked: paths as given, mappings spelled as `DataSource.describe` writes them."""
    where = f"{path}:{key_lines.get(f'{JSONTUNE_SECTION}.{DATA_FILES_KEY}', '?')}"
    if split_builder:
        raise RecipeError(f"{where}: jsontune.{DATA_FILES_KEY}: a split builder reads contract JSONL files; give "
                          "their paths, not source mappings")
    checked: list = []
    for index, entry in enumerate(sources):
        label = f"{where}: jsontune.{DATA_FILES_KEY}[{index}]"
        if isinstance(entry, str):
            checked.append(entry)
            continue
        try:
            source = data_source(entry, label)
        except SourceError as err:
            raise RecipeError(str(err)) from None
        if not Path(source.path).exists() and not is_hub_dataset(source.path):
            raise RecipeError(f"{label}: no such file or folder {source.path!r} (nor a Hub dataset id, owner/name)")
        checked.append(source.describe())
    return checked


def _check_dev_settings(path: Path, training: SFTConfig, args: JsontuneArguments) -> None:
    """In-training generation metrics and early stopping need a dev set, evaluations and a kept best model."""
    strategy = str(getattr(training.eval_strategy, "value", training.eval_strategy))
    evaluating = strategy != "no"
    if args.dev_rows < 0:
        raise RecipeError(f"{path}: jsontune.dev_rows must be 0 or more, not {args.dev_rows}")
    if evaluating and args.dev_rows == 0:
        raise RecipeError(f"{path}: eval_strategy is {strategy!r} but jsontune.dev_rows is 0: "
                          "set dev_rows to hold out a dev set to evaluate on")
    if args.early_stopping_patience is None:
        return
    missing = [key for key, ok in (("an eval_strategy other than 'no'", evaluating),
                                   ("jsontune.dev_rows > 0", args.dev_rows > 0),
                                   ("metric_for_best_model (e.g. json_field_f1)", training.metric_for_best_model),
                                   ("load_best_model_at_end: true", training.load_best_model_at_end)) if not ok]
    if missing:
        raise RecipeError(f"{path}: jsontune.early_stopping_patience needs " + ", ".join(missing))


def _check_model_reference(path: Path, name: str) -> None:
    if name in EMBEDDED_MODELS or Path(name).exists():
        return
    if is_hub_id(name):
        return  # a Hub id: loading it needs the Hub, which is the user's choice
    raise RecipeError(
        f"{path}: model_name_or_path {name!r} is not an existing path, an embedded model "
        f"({', '.join(sorted(EMBEDDED_MODELS))}) or a Hub id (owner/name)"
    )
