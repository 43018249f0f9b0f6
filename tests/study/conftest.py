"""Fixtures of the runner tests."""

from __future__ import annotations

from study_fixtures import simulated_study, study_copy  # noqa: F401
