"""`jsontune serve`: load a model once, start its thread, and serve it over HTTP until SIGINT or SIGTERM.

Everything a user can get wrong (the model path, the key's environment variable, the limits, the grammar
backend) is checked before the weights load. uvicorn handles the signals: on SIGTERM it stops accepting,
lets the requests in flight finish (up to `GRACEFUL_S`), and the model thread then stops.
"""

from __future__ import annotations

import logging
import os

from jsontune.data.prompting import choose_prompt_config, end_of_turn_id
from jsontune.decoding.constrained.backends import backend_for
from jsontune.decoding.defaults import BACKENDS
from jsontune.errors import JsontuneError
from jsontune.models.loading import load_weights, model_source
from jsontune.serving.app import ServerSettings, create_app
from jsontune.serving.chat import ChatModel, Limits
from jsontune.serving.options import ServeOptions
from jsontune.serving.worker import ModelWorker

logger = logging.getLogger(__name__)

GRACEFUL_S = 30


def serve(model: str, adapter: str | None = None, options: ServeOptions = ServeOptions()) -> None:
    """Serve `model` (a run folder, a standalone model, an embedded model's name) until told to stop."""
    import uvicorn

    app = build_app(model, adapter, options)
    uvicorn.run(app, host=options.host, port=options.port, log_level="info", timeout_graceful_shutdown=GRACEFUL_S)


def build_app(model: str, adapter: str | None, options: ServeOptions):
    """The checked, loaded app (its model thread starts with the app)."""
    key = _api_key(options.api_key_env)
    for name in ("max_batch_size", "max_tokens", "max_prompt_tokens", "max_body_bytes"):
        if getattr(options, name) < 1:
            raise JsontuneError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(options, name)}")
    if options.max_queue < 0 or options.timeout_s <= 0:
        raise JsontuneError("--max-queue must be 0 or more and --timeout above 0")
    if options.grammar_backend not in BACKENDS:
        raise JsontuneError(f"--grammar-backend must be one of {', '.join(BACKENDS)}, not {options.grammar_backend!r}")
    source = model_source(model, adapter)
    tokenizer = source.tokenizer()
    prompt_config = source.prompt_config() or choose_prompt_config(tokenizer)
    capacity = options.max_prompt_tokens + options.max_tokens
    context = source.context_length()
    if context is not None and capacity > context:
        raise JsontuneError(f"--max-prompt-tokens {options.max_prompt_tokens} and --max-tokens {options.max_tokens} "
                            f"exceed the model's context of {context} tokens")
    from jsontune.decoding.engine import Engine

    weights = load_weights(source, merge_adapter=options.merge_adapter)
    stop = end_of_turn_id(tokenizer)
    vocab_size = weights.config.vocab_size
    backend = backend_for(options.grammar_backend, tokenizer, vocab_size, stop)
    chat = ChatModel(tokenizer, prompt_config, stop, vocab_size, backend,
                     Limits(options.max_tokens, options.max_prompt_tokens), options.bounds)
    worker = ModelWorker(Engine(weights, tokenizer, stop, options.max_batch_size), options.max_batch_size, capacity,
                         options.max_queue)
    # Requests beyond what the queue can hold (twice over, for refusals and /health) are refused before their
    # bodies are read (jsontune.serving.app.RequestLimit).
    open_requests = 2 * (options.max_batch_size + options.max_queue) + 16
    settings = ServerSettings(options.served_model_name or model, options.timeout_s, options.max_body_bytes, key,
                              open_requests)
    logger.info("serving %s as %r: %d rows at a time, %d waiting at most, prompts of %d tokens, answers of %d",
                model, settings.model_name, worker.slots, options.max_queue, options.max_prompt_tokens,
                options.max_tokens)
    return create_app(chat, worker, settings)


def _api_key(variable: str | None) -> str | None:
    if variable is None:
        return None
    key = os.environ.get(variable, "").strip()
    if not key:
        raise JsontuneError(f"--api-key-env {variable}: that environment variable is not set (or empty); set it to "
                            f"the key clients must send")
    if not key.isascii() or not key.isprintable():
        raise JsontuneError(f"--api-key-env {variable}: the key must be printable ASCII (HTTP headers carry no "
                            f"other text reliably)")
    return key
