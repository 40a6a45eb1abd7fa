"""Giving the memory of freed frames back to the system between the steps of a build.

pandas and pyarrow free a step's temporaries, but the allocators keep the pages for later use:
pyarrow's memory pool (mimalloc) and glibc's malloc both. Held pages count in the process's
resident memory, and a forked chart worker writing into them copies each one. At 10x the full
size they were some 200 MiB after computing the marts.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Return the pages of memory freed so far to the system (pyarrow's pool, then malloc)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
