"""Moved to tpgan_tf.evaluation.metrics (temporary re-export during the issue-9 refactor)."""
from tpgan_tf.evaluation.metrics import *  # noqa: F401,F403
from tpgan_tf.evaluation.metrics import ssim  # noqa: F401
