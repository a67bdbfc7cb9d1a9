"""Give freed heap memory back to the OS (glibc), so a long-running server does not keep every peak."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _libc():
    """glibc's handle, or None where there is no malloc_trim (macOS, Windows, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_memory() -> bool:
    """malloc_trim(0): return the free pages of every malloc arena to the OS; True if memory was released."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


M_ARENA_MAX = -8        # glibc's mallopt parameter: the most malloc arenas the process may create


def limit_arenas(n: int) -> bool:
    """mallopt(M_ARENA_MAX, n): threads share at most n malloc arenas (glibc gives each busy thread one of its own,
    up to 8 per core, and each keeps its peak); True if set."""
    libc = _libc()
    return bool(libc.mallopt(M_ARENA_MAX, int(n))) if libc is not None and hasattr(libc, "mallopt") else False
