"""The shared core: configs, the Task protocol and registry, the training loop, checkpoints,
distribution, optimisers, summaries and atomic writes. It knows no model names."""
