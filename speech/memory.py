"""Giving freed memory back to the system.

glibc's allocator keeps the heap pages a process freed (a model's weights, onnxruntime's
buffers) for its own later use, so the process's resident size does not fall when a
model is unloaded. `trim_heap` asks it to return them. Elsewhere (macOS, musl) it does
nothing: those allocators give large blocks back by themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def trim_heap() -> bool:
    """Return the allocator's free pages to the system; True if it could be asked."""
    trim = _malloc_trim()
    if trim is None:
        return False
    try:
        trim(0)
    except Exception:  # never fail an unload over it
        logger.debug("malloc_trim failed", exc_info=True)
        return False
    return True
