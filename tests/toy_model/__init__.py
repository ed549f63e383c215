"""A toy model registered from outside tpgan_tf (tests/core/test_registry.py): everything a
model needs lives in this sub-package, nothing in the core names it."""
from tests.toy_model import task  # noqa: F401  (registers "toy")
