"""Freed memory goes back to the system between a build's steps (lgs_analytics.memory)."""

from __future__ import annotations

import platform

import psutil
import pyarrow as pa
import pytest

from lgs_analytics.memory import release_freed_memory


def resident_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_memory_freed_between_blocks_still_in_use_leaves_the_process():
    # 200,000 blocks of 1 KiB come from malloc's heap (too big for Python's own small-object
    # arenas). One in 50 stays in use, so the heap cannot shrink from its top: glibc keeps the
    # freed pages between them (about 190 MiB) until trimmed.
    blocks = [bytes(1024) + bytes([i % 256]) for i in range(200_000)]
    kept = blocks[::50]
    del blocks
    before = resident_mib()
    release_freed_memory()
    assert before - resident_mib() > 100
    assert len(kept) == 4_000  # still there: only freed memory was given back


def test_pyarrow_pool_memory_freed_is_released():
    pool = pa.default_memory_pool()
    table = pa.table({"x": pa.array(range(5_000_000))})
    assert pool.bytes_allocated() >= 40_000_000
    del table
    release_freed_memory()  # must not fail whatever the pool's backend
    assert pool.bytes_allocated() < 40_000_000
