"""A tiny simulated study shared by the runner tests (copied before a test changes it)."""

from __future__ import annotations

import shutil

import pytest

from mrdquant.simulate.study import write_study

#: small enough for CI: 2 patients, ~25 tubes of 6,000 events, 1 qPCR plate
STUDY_ARGS = dict(n_patients=2, n_events=6_000, seed=3)


@pytest.fixture(scope="session")
def simulated_study(tmp_path_factory):
    """A pristine simulated study folder (never modified by tests: copy it first)."""
    root = tmp_path_factory.mktemp("study") / "pristine"
    write_study(root, **STUDY_ARGS)
    # the runner tests check results, the store and reruns: no gating page or FlowJo
    # workspace per tube (1-2 s each); the tests of pages write their own [flow] table
    toml = root / "study.toml"
    text = toml.read_text(encoding="utf-8")
    assert text.count('panel = "B-ALL"') == 1
    toml.write_text(text.replace('panel = "B-ALL"', 'panel = "B-ALL"\nplots = false', 1), encoding="utf-8")
    return root


@pytest.fixture
def study_copy(simulated_study, tmp_path):
    """A fresh copy of the simulated study for one test."""
    dest = tmp_path / "study"
    shutil.copytree(simulated_study, dest)
    return dest
