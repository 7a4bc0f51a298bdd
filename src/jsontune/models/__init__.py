"""Models: the embedded base model, loading a trained one for inference, merging an adapter, pushing to the Hub."""
