"""Code shape of the gating engine: one idea per module, public names where they were."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import mrdquant
from mrdquant.cytometry import _gating_compile, _gating_engine, _gatingml_convert, gating, gating_batch, gating_result
from mrdquant.cytometry.gates import BooleanGate, Dimension, RectangleGate
from mrdquant.io.fcs import FlowSample

def test_public_names_stay_importable_from_the_strategy_module():
    from mrdquant.cytometry.gating import (  # noqa: F401
        COUNTS_COLUMNS,
        GatingBatch,
        GatingFailure,
        GatingResult,
        GatingStrategy,
    )

    assert mrdquant.GatingStrategy is GatingStrategy is mrdquant.cytometry.GatingStrategy
    assert mrdquant.GatingResult is GatingResult is gating_result.GatingResult
    assert GatingBatch is gating_batch.GatingBatch and GatingFailure is gating_batch.GatingFailure
    assert COUNTS_COLUMNS is gating_result.COUNTS_COLUMNS


def _defined(module) -> set:
    tree = ast.parse(Path(module.__file__).read_text())
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def test_each_job_has_its_own_module():
    # compiling, the per-sample engine, results, batch runs and document conversion
    assert {"compile_hierarchy", "_topological"} <= _defined(_gating_compile)
    assert {"_Chunk", "_SamplePlan", "evaluate"} <= _defined(_gating_engine)
    assert {"GatingResult"} <= _defined(gating_result)
    assert {"GatingBatch", "GatingFailure", "gate_many"} <= _defined(gating_batch)
    assert {"strategy_from_document", "strategy_to_document"} <= _defined(_gatingml_convert)
    assert _defined(gating) == {"GatingStrategy"}
    for mod in (gating, gating_result, gating_batch, _gating_compile, _gating_engine, _gatingml_convert):
        n = len(Path(mod.__file__).read_text().splitlines())
        assert n < 400, f"{mod.__name__} has {n} lines"


def test_document_conversion_round_trip_through_its_module():
    gates = [RectangleGate("big", [Dimension("FSC-A")], [100.0], [None]),
             RectangleGate("small", [Dimension("FSC-A")], [None], [50.0]),
             BooleanGate("either", "or", ["big", "small"])]
    s = gating.GatingStrategy(gates, names={"big": "Big cells"})
    doc = _gatingml_convert.strategy_to_document(s)
    back = _gatingml_convert.strategy_from_document(doc)
    assert isinstance(back, gating.GatingStrategy)
    assert [g["id"] for g in doc.gates] == ["big", "small", "either"]
    ev = np.array([[10.0], [75.0], [150.0], [50.0]], dtype=np.float32)
    r = back.gate(FlowSample.from_array(ev, ["FSC-A"]))
    # big: 100 <= x; small: x < 50 (half-open): 10 and 150 are in, 75 and 50 are not
    assert r.membership("either").tolist() == [True, False, True, False]
