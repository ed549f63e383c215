"""The stages of `make demo` (experiments/run_demo.py): shared data, one module per model, the
combined results page."""
