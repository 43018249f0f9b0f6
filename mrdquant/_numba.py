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

__all__ = ["njit", "pnjit", "prange", "serial_and_parallel"]

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


def serial_and_parallel(fn):
    """Compile one kernel source two ways: ``(serial, parallel)`` dispatchers.

    Write the event loop with ``prange``: the parallel variant (``parallel=True``) splits
    it over threads, the serial one runs it as ``range`` (numba treats ``prange`` as
    ``range`` when ``parallel`` is off). Both are cached and without fastmath. Each
    variant compiles its own copy of the function, named ``<name>_ser`` / ``<name>_par``:
    numba's cache files are named after the function and its cache key ignores the
    ``parallel`` flag, so two variants of one function object would load each other's
    machine code.
    """
    import types

    def variant(suffix: str):
        f = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__,
                               fn.__closure__)
        f.__qualname__ = fn.__qualname__ + suffix
        f.__module__ = fn.__module__
        f.__doc__ = fn.__doc__
        return f

    return njit(variant("_ser")), pnjit(variant("_par"))
