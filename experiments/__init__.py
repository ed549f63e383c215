# Every script of this package runs as `python -m <package>.<script>`: keep TensorFlow's C++
# start-up lines off the console (tpgan_tf/console.py; TPGAN_TF_VERBOSE=1 shows them).
from tpgan_tf.console import quiet_tensorflow_startup

quiet_tensorflow_startup()
