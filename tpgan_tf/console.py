"""A clean console: TensorFlow's C++ start-up lines kept off the terminal.

Importing TensorFlow 2.21 and touching its devices prints lines such as

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 ... port.cc:153] oneDNN custom operations are on. ...
    E0000 ... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error ...

from C++, straight to file descriptor 2, before TF_CPP_MIN_LOG_LEVEL can act: a new user
reads them as failures. One more comes at run time, once per process, at the first int32
transpose that oneDNN's graph rewrite sees (on AVX-512 CPUs without its int32 kernels):

    E0000 ... util.cc:131] oneDNN supports DT_INT32 only on platforms with AVX-512. ...

`quiet_tensorflow_startup()` (called by the `experiments`, `data_prep` and `benchmarks`
packages when they are imported, i.e. by every script) installs an import hook: the first
`import tensorflow` of the process then runs with fd 2 pointed at a temporary file, together
with the device probe that prints the CUDA line and one int32 transpose in a tf.function
(~0.1 s) that spends the oneDNN line, and the file is dropped. If that import fails,
everything it printed is shown before the error. Nothing is imported early: a script that
never needs TensorFlow never loads it.

TensorFlow's Python side logs through absl, and absl's `app.run` raises the verbosity to INFO
unless --verbosity is given: then every checkpoint save prints "Sharding callback duration"
and every export one line per captured variable. The hook also registers an absl init
callback that sets the verbosity back to WARNING when --verbosity was not given, for every
script (--verbosity=0 brings the lines back).

TPGAN_TF_VERBOSE=1 (or TF_CPP_MIN_LOG_LEVEL set below 2 by the user) shows the lines again.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import tempfile

VERBOSE_ENV = "TPGAN_TF_VERBOSE"


def verbose() -> bool:
    """True when the user asked for TensorFlow's start-up lines."""
    if os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
        return True
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    return level is not None and level.isdigit() and int(level) < 2


class _Silenced:
    """fd 2 pointed at a temporary file while the block runs; the text is kept."""

    def __enter__(self):
        sys.stderr.flush()
        self._file = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        self.text = self._file.read().decode(errors="replace")
        self._file.close()
        return False


def _spend_onednn_int32_line(tf) -> None:
    """Runs what makes oneDNN log its DT_INT32 line (once per process): an int32 transpose of
    a tf.function argument (a constant would be folded before the rewrite sees it)."""
    tf.function(lambda x: tf.transpose(x))(tf.zeros([2, 2], tf.int32))


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run silenced together with the device probe and the oneDNN
    int32 transpose."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):  # everything else (resource readers, ...) as the original
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with _Silenced() as silenced:
            try:
                self._loader.exec_module(module)
                module.config.list_physical_devices("GPU")  # the CUDA probe prints here
                _spend_onednn_int32_line(module)
                error = None
            except BaseException as e:  # shown below, with what TensorFlow printed
                error = e
        if error is not None:
            sys.stderr.write(silenced.text)
            raise error


class _QuietTensorflowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` the usual way, once, and hands back its spec with a silenced
    loader (module doc)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once per process; find the real spec without us
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _absl_warnings_only() -> None:
    """After absl's flag parsing: WARNING unless the user gave --verbosity (module doc)."""
    from absl import flags, logging

    if "verbosity" in flags.FLAGS and not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)


def quiet_tensorflow_startup() -> None:
    """Installs the hook once per process (no-op when verbose() or TensorFlow is loaded)."""
    if verbose() or "tensorflow" in sys.modules:
        return
    from absl import app

    app.call_after_init(_absl_warnings_only)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # later INFO / WARNING lines too
    if not any(isinstance(f, _QuietTensorflowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorflowFinder())
