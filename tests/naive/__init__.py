"""Slow, obvious reference implementations that the numba kernels are tested against."""
