"""Moved to tpgan_tf.faces.landmarks (temporary re-export during the issue-9 refactor)."""
from tpgan_tf.faces.landmarks import *  # noqa: F401,F403
from tpgan_tf.faces.landmarks import CSV_HEADER, read_landmark_csv, write_landmark_csv  # noqa: F401
