"""Models: the embedded base model, loading a trained one for inference, merging an adapter, exporting for other
servers (HF, GGUF), pushing to the Hub with its card."""
