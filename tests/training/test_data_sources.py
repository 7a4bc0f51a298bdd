"""Training from every data source and row format jsontune reads, each run's saved recipe rerunning; the TRL keys
jsontune does not honour are refused, and the one it honours (chat_template_path) shapes the training prompts."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from jsontune.recipe import RecipeError, load_recipe
from jsontune.run_dir import RECIPE_FILE
from jsontune.training.train import build_trainer, train
from tests import REPO
from tests.data.test_sources import write_sources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return write_sources(tmp_path_factory.mktemp("train-sources"))


@pytest.mark.parametrize("kind", ["parquet", "csv", "messages", "saved_to_disk"])
def test_a_few_steps_train_from_each_source_and_the_saved_recipe_reruns(make_recipe, sources, kind, tmp_path):
    source = sources[kind].describe()
    recipe = load_recipe(make_recipe(max_steps=2, jsontune={"data_files": [source]}))
    figures = train(recipe)
    saved = recipe.training.output_dir + "/" + RECIPE_FILE
    assert figures["train_loss"] > 0
    assert yaml.safe_load(open(saved))["jsontune"]["data_files"] == [source]

    again = load_recipe(saved, ["--max_steps", "1", "--output_dir", str(tmp_path / "again")])
    assert again.jsontune.data_files == [source]
    assert train(again)["train_loss"] > 0


@pytest.mark.parametrize("key, value, words", [
    ("assistant_only_loss", True, "loss on the answer alone"),
    ("dataset_text_field", "text", "columns"),
    ("chat_template_path", "tokenizer-folder", "must be a Jinja template file"),
])
def test_a_trl_key_jsontune_does_not_honour_is_refused_with_what_to_use(make_recipe, key, value, words):
    with pytest.raises(RecipeError, match=words):
        load_recipe(make_recipe(**{key: value}))


def test_dataset_name_points_to_a_hub_source(make_recipe):
    with pytest.raises(RecipeError, match=r"path: OWNER/NAME"):
        load_recipe(make_recipe(dataset_name="org/data"))


def test_chat_template_path_is_the_template_of_training_and_of_the_saved_tokenizer(make_recipe, tmp_path):
    template = tmp_path / "template.jinja"
    template.write_text("{% for m in messages %}<<{{ m['role'] }}>> {{ m['content'] }}\n{% endfor %}"
                        "{% if add_generation_prompt %}<<assistant>> {% endif %}")
    trainer, _, _ = build_trainer(load_recipe(make_recipe(max_steps=1, chat_template_path=str(template))))
    first = trainer.processing_class.decode(trainer.train_dataset[0]["input_ids"])
    assert first.startswith("<<user>> ") and "<<assistant>> " in first
    trainer.save_model(str(tmp_path / "saved"))
    trainer.processing_class.save_pretrained(str(tmp_path / "saved"))
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(tmp_path / "saved").chat_template == template.read_text()


def test_train_takes_the_recipe_as_config_as_trl_scripts_do(make_recipe, tmp_path):
    done = subprocess.run([sys.executable, "-m", "jsontune.cli", "train", "--config", str(make_recipe()),
                           "--max_steps", "1", "--output_dir", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / RECIPE_FILE).is_file()
