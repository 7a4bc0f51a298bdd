"""jsontune: fine-tune causal language models to write JSON, and benchmark what they write."""

from jsontune.models.bnb_hub_kernel import hide_hub_kernel_warning, refuse_hub_kernel

__version__ = "0.1.0"
__all__ = ["InvalidJSON", "generate_json", "generate_json_lora"]


def __getattr__(name: str):
    # Lazy: `import jsontune` stays cheap; torch and transformers load on the first generate_json call.
    if name in __all__:
        from jsontune import api

        return getattr(api, name)
    raise AttributeError(f"module 'jsontune' has no attribute {name!r}")


# Before any import of bitsandbytes (peft and transformers make one): see jsontune.models.bnb_hub_kernel.
refuse_hub_kernel()
hide_hub_kernel_warning()
