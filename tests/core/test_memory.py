"""glibc keeps freed memory after tpgan_tf/core/memory.py's call: a large buffer freed and
allocated again costs no new page faults (with glibc's defaults it costs one per 4 KiB page)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tpgan_tf.core import memory

_MEASURE = textwrap.dedent("""
    import ctypes, ctypes.util, resource, sys
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    if sys.argv[1] == "keep":
        from tpgan_tf.core import memory
        assert memory.keep_freed_memory()

    def faults_of_a_64mib_buffer():  # malloc, write every page, free (as a tensor buffer)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        buffer = libc.malloc(64 << 20)
        ctypes.memset(buffer, 1, 64 << 20)
        libc.free(buffer)
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults_of_a_64mib_buffer()  # the first time the pages are new either way
    print(faults_of_a_64mib_buffer())
""")

PAGES = (64 << 20) // 4096  # 16,384 pages of 4 KiB


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _MEASURE, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_a_freed_buffer_is_reused_without_page_faults():
    assert memory.keep_freed_memory() is True
    default, keep = _faults("default"), _faults("keep")
    # Measured: 16,385 and 0. glibc's default serves 64 MiB by mmap and unmaps it on free, so
    # every page faults again; kept, the second buffer reuses the first one's mapped pages.
    assert default >= PAGES
    assert keep < PAGES // 100
