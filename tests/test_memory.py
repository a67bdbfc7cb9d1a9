"""Giving freed heap memory back: after freeing half of many small tensors, malloc_trim returns pages to the OS."""
import torch

from explorer.memory import _libc, release_memory


def _rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_release_memory_returns_freed_heap_pages():
    assert _libc() is not None, "glibc's malloc_trim is expected on Linux (CI and the Space)"
    release_memory()
    kept = [torch.empty(16_000) for _ in range(4_000)]      # 64 KB each, below the mmap threshold: on the heap
    for x in kept:
        x.fill_(1.0)                                          # touch the pages
    del kept[::2]                                             # free every other one: holes glibc keeps
    before = _rss_mb()
    assert release_memory() is True
    assert _rss_mb() < before - 50, "about 128 MB of freed pages went back to the OS"


def test_the_arena_limit_is_accepted_by_glibc():
    from explorer.memory import _libc, limit_arenas

    assert limit_arenas(4) is (_libc() is not None)     # glibc takes it; elsewhere it is a no-op that says so
