"""jsontune: fine-tune causal language models to write JSON, and benchmark what they write."""

__version__ = "0.1.0"
__all__ = ["InvalidJSON", "generate_json", "generate_json_lora"]


def __getattr__(name: str):
    # Lazy: `import jsontune` stays cheap; torch and transformers load on the first generate_json call.
    if name in __all__:
        from jsontune import api

        return getattr(api, name)
    raise AttributeError(f"module 'jsontune' has no attribute {name!r}")
