"""Moved to tpgan_tf.core.distribution (temporary re-export during the issue-9 refactor)."""
from tpgan_tf.core.distribution import *  # noqa: F401,F403
from tpgan_tf.core.distribution import (enable_determinism, make_strategy,  # noqa: F401
                                        needs_loss_scaling, set_precision, worker_info)
