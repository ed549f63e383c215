"""One sub-package per model; each registers its task and config on import (core/registry.py)."""
