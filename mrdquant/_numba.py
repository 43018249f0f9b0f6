"""The house numba decorators.

All kernels in mrdquant are compiled through these two decorators so that caching is
always on and fastmath always off (gate memberships must match reference truth files
bit for bit). Kernels take only arrays and scalars, never raise, and never allocate what
their numpy wrapper can allocate for them.
"""

from __future__ import annotations

import numba

__all__ = ["njit", "pnjit", "prange"]

prange = numba.prange


def njit(*args, **kwargs):
    """``numba.njit`` with ``cache=True`` and ``fastmath=False``."""
    kwargs.setdefault("cache", True)
    kwargs["fastmath"] = False
    return numba.njit(*args, **kwargs)


def pnjit(*args, **kwargs):
    """Parallel ``numba.njit`` (``parallel=True``, cached, no fastmath)."""
    kwargs.setdefault("cache", True)
    kwargs["fastmath"] = False
    kwargs["parallel"] = True
    return numba.njit(*args, **kwargs)
