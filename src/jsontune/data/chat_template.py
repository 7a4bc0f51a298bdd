"""A chat template that prompts a model the way jsontune trained it, for servers that know nothing of jsontune.

vLLM, llama.cpp's server, Ollama and `tokenizer.apply_chat_template` build a prompt from chat messages with the
tokenizer's chat template, and never read `jsontune_prompt.json`. `trained_chat_template` writes the trained
prompt settings into the template itself, so that one user message gives the very token ids jsontune's own
rendering gives (`jsontune.data.prompting.prompt_ids`; a test compares them):

- chat format: the model's template, with the trained system prompt put first when the messages bring none;
  a first `developer` message (the OpenAI API's newer name) counts as the system message, as on jsontune's server;
- plain format (models without a template): the plain layout itself, with the special tokens the tokenizer adds.

The schema is the client's part: for a model trained with the schema in its prompt, the user message is the
text followed by the rendered schema, `jsontune.data.prompting.user_text` (a template cannot render it: the
servers do not pass `response_format` to the template).
"""

from __future__ import annotations

import json

from jsontune.data.prompting import PLAIN_SYSTEM, PLAIN_USER, PromptConfig


def trained_chat_template(tokenizer, config: PromptConfig) -> str:
    """The Jinja chat template that renders one user message (after an optional system one) as jsontune does."""
    if config.format == "plain":
        return _plain_template(tokenizer, config.system_prompt)
    template = tokenizer.chat_template
    if not isinstance(template, str):
        raise ValueError("a chat-format model needs one chat template (a string), not "
                         f"{type(template).__name__}")
    developer = ("{%- if messages and messages[0]['role'] == 'developer' -%}"
                 "{%- set messages = [{'role': 'system', 'content': messages[0]['content']}] + messages[1:] -%}"
                 "{%- endif -%}")
    if not config.system_prompt:
        return developer + template
    system = {"role": "system", "content": config.system_prompt}
    return (developer + "{%- if not messages or messages[0]['role'] != 'system' -%}"
            f"{{%- set messages = [{_literal(system)}] + messages -%}}"
            "{%- endif -%}" + template)


def _plain_template(tokenizer, system_prompt: str | None) -> str:
    before, after = _special_text(tokenizer)
    system_before, system_after = PLAIN_SYSTEM.split("{system}")
    user_before, user_after = PLAIN_USER.split("{prompt}")
    return (f"{{%- set ns = namespace(system={_literal(system_prompt)}) -%}}"
            "{%- for message in messages if message['role'] in ['system', 'developer'] -%}"
            "{%- set ns.system = message['content'] -%}"
            "{%- endfor -%}"
            f"{{{{- {_literal(before)} -}}}}"
            f"{{%- if ns.system -%}}{{{{- {_literal(system_before)} + ns.system + {_literal(system_after)} -}}}}"
            "{%- endif -%}"
            "{%- for message in messages -%}"
            f"{{%- if message['role'] == 'user' -%}}"
            f"{{{{- {_literal(user_before)} + message['content'] + {_literal(user_after)} -}}}}"
            "{%- elif message['role'] == 'assistant' -%}{{- message['content'] + eos_token -}}"
            "{%- endif -%}"
            "{%- endfor -%}"
            f"{{{{- {_literal(after)} -}}}}")


def _special_text(tokenizer) -> tuple[str, str]:
    """The text of the special tokens the tokenizer adds before and after a text (OPT: its BOS before)."""
    plain = tokenizer("x", add_special_tokens=False)["input_ids"]
    special = tokenizer("x", add_special_tokens=True)["input_ids"]
    start = next(i for i in range(len(special)) if special[i:i + len(plain)] == plain)
    return tokenizer.decode(special[:start]), tokenizer.decode(special[start + len(plain):])


def _literal(value) -> str:
    """A Jinja literal of a string, None or a dict of strings (Jinja reads JSON's escapes, non-ASCII kept as is)."""
    if value is None:
        return "none"
    return json.dumps(value, ensure_ascii=False)
