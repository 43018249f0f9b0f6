"""Exceptions and warnings raised by mrdquant.

Every error a user can trigger with bad input is a :class:`MrdquantError`. Errors about
input data also subclass :class:`ValueError` (through :class:`InputError`) so that code
written against plain Python exceptions still catches them. Messages name the file, the
field (keyword, column, gate, ...) and what was expected.

Clinical outcomes such as "below LOD" or "not evaluable" are *values* in result tables,
never exceptions.
"""

from __future__ import annotations

__all__ = [
    "MrdquantError",
    "InputError",
    "FCSError",
    "QPCRError",
    "GatingMLError",
    "GatingError",
    "CompensationError",
    "ClinicalDataError",
    "ConfigError",
    "AssayQcError",
    "ReferenceFileError",
    "MrdquantWarning",
    "FCSWarning",
    "ThresholdWarning",
    "StatisticalWarning",
    "QcWarning",
    "located",
]


class MrdquantError(Exception):
    """Base class of every error mrdquant raises on purpose."""


class InputError(MrdquantError, ValueError):
    """Input data (a file, a table, an array) is malformed or inconsistent."""


class FCSError(InputError):
    """An FCS file cannot be read: the message names the file, segment or keyword."""


class QPCRError(InputError):
    """A qPCR instrument export cannot be read or is inconsistent."""


class GatingMLError(InputError):
    """A Gating-ML or FlowJo workspace document cannot be compiled."""


class GatingError(InputError):
    """A gating strategy cannot be applied to a sample (missing channel, bad gate id)."""


class CompensationError(InputError):
    """A spillover matrix does not fit the sample it is applied to."""


class ClinicalDataError(InputError):
    """A patients, samples or events table is inconsistent (dates, ids, codes)."""


class ConfigError(MrdquantError, ValueError):
    """A profile or parameter set is invalid or incomplete."""


class AssayQcError(MrdquantError):
    """An assay run failed quality control; ``reasons`` lists why."""

    def __init__(self, message: str, reasons: list[str] | None = None):
        super().__init__(message)
        self.reasons = list(reasons or [])


class MrdquantWarning(UserWarning):
    """Base class of mrdquant's warnings."""


class FCSWarning(MrdquantWarning):
    """An FCS file was read, but something in it is off (e.g. offset discrepancy)."""


class ThresholdWarning(MrdquantWarning):
    """A threshold was used without a cited source, or outside its assay."""


class StatisticalWarning(MrdquantWarning):
    """A statistic is unreliable (few events, non-convergence, empty group)."""


class QcWarning(MrdquantWarning):
    """A quality-control rule flagged a result that is still reported."""


def located(where: object, message: object) -> str:
    """``"<where>: <message>"`` naming ``where`` once.

    An inner error's message often already starts with the same file (``f.fcs: no
    channel ...``); wrapping it again would repeat the path. Every ``"<where>: "`` in
    ``message`` is dropped before the one prefix is added.

    Examples
    --------
    >>> located("f.fcs", "f.fcs: the strategy needs channel 'V500-A': f.fcs: no channel 'V500-A'")
    "f.fcs: the strategy needs channel 'V500-A': no channel 'V500-A'"
    """
    prefix = f"{where}: "
    text = str(message)
    while prefix in text:
        text = text.replace(prefix, "")
    return prefix + text
class ReferenceFileError(InputError):
    """A normal-marrow reference file is unreadable, of an unknown version, tampered with,
    or does not belong to the panel of the sample it is applied to."""
