"""Fixtures of the store tests: the simulated study of tests/study."""

from __future__ import annotations

from study_fixtures import simulated_study, study_copy  # noqa: F401
