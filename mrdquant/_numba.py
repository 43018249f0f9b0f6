"""The house numba decorators.

All kernels in mrdquant are compiled through these two decorators so that caching is
always on and fastmath always off (gate memberships must match reference truth files
bit for bit). Kernels take only arrays and scalars, never raise, and never allocate what
their numpy wrapper can allocate for them.
"""

from __future__ import annotations

import os

# numba's OpenMP threading layer (libgomp) lets its worker threads spin after each parallel
# loop by default. Between the many short parallel loops of a gating run, on a machine whose
# cores other processes also use, the spinning workers take CPU from the calling thread
# (measured on 2 cores at load 2: 2-thread gating 60-70% slower than 1 thread; equal with
# passive waiting). libgomp reads the policy when numba loads it at the first parallel call,
# which comes after this import. A value the user set (OMP_WAIT_POLICY or GOMP_SPINCOUNT)
# is kept; note that the setting is process-wide and inherited by child processes.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import numba  # noqa: E402

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
