"""WT1 calls against assay-bound profiles.

A profile's ``wt1.toml`` names its assay, the metric its thresholds are expressed in
(``wt1_pct_abl1`` for PUIH, ``wt1_per_1e4_abl1`` for the ELN assay) and one
``positive_above.<specimen>`` threshold per specimen type. A value strictly above the
threshold is ``positive``; at or below it ``negative``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from ..profiles import Profile, load_profile

__all__ = ["Wt1Rule", "wt1_rule", "normalize_specimen", "classify_wt1", "NOT_EVALUABLE"]

NOT_EVALUABLE = "not evaluable"

_SPECIMENS = {
    "bm": "BM", "bone marrow": "BM", "marrow": "BM", "bma": "BM",
    "pb": "PB", "peripheral blood": "PB", "blood": "PB",
}


def normalize_specimen(value: object) -> str:
    """``"bone marrow"`` -> ``"BM"``, ``"peripheral blood"`` -> ``"PB"``; ``""`` if unknown/empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    s = str(value).strip()
    return _SPECIMENS.get(s.casefold(), s.upper() if s else "")


@dataclass(frozen=True)
class Wt1Rule:
    """The WT1 threshold a profile applies to one specimen type.

    ``threshold`` is NaN and ``reason`` says why when the profile has none for it.
    """

    profile: str
    assay: str
    metric: str
    specimen: str
    threshold: float
    unit: str
    source: str
    reason: str = ""


def wt1_rule(profile: "str | Profile", specimen: str | None) -> Wt1Rule:
    """The WT1 rule of ``profile`` for ``specimen`` (``BM``/``PB``; empty: profile default).

    Raises
    ------
    ConfigError
        The profile has no ``wt1`` section, or no assay/metric.
    """
    prof = load_profile(profile)
    if "wt1" not in prof.sections:
        raise ConfigError(f"profile {prof.profile_id!r} has no WT1 section (wt1.toml)")
    assay = prof.threshold("wt1.assay").value
    metric_t = prof.threshold("wt1.metric")
    metric = metric_t.value
    if metric not in ("wt1_pct_abl1", "wt1_per_1e4_abl1"):
        raise ConfigError(
            f"profile {prof.profile_id!r}: wt1.metric must be 'wt1_pct_abl1' or 'wt1_per_1e4_abl1', got {metric!r}"
        )
    spec = normalize_specimen(specimen)
    if not spec:
        default = prof.value("wt1.default_specimen", None)
        if isinstance(default, dict) or default is None:
            why = prof.threshold("wt1.default_specimen").reason if "default_specimen" in prof.sections["wt1"] else ""
            return Wt1Rule(prof.profile_id, str(assay), metric, "", math.nan, metric_t.unit, "",
                           f"specimen unknown and profile has no default specimen{': ' + why if why else ''}")
        spec = normalize_specimen(default)
    table = prof.sections["wt1"].get("positive_above", {})
    if spec not in table:
        return Wt1Rule(prof.profile_id, str(assay), metric, spec, math.nan, metric_t.unit, "",
                       f"profile {prof.profile_id} has no WT1 threshold for specimen {spec} "
                       f"(has {', '.join(sorted(table)) or 'none'})")
    t = prof.threshold(f"wt1.positive_above.{spec}")
    if not t.is_set:
        return Wt1Rule(prof.profile_id, str(assay), metric, spec, math.nan, t.unit, t.source,
                       f"threshold unset: {t.reason}")
    bound = table[spec].get("assay", assay)
    if bound != assay:
        raise ConfigError(
            f"profile {prof.profile_id!r}: threshold wt1.positive_above.{spec} is bound to assay {bound!r}, "
            f"the profile's WT1 assay is {assay!r}; thresholds are never mixed across assays"
        )
    return Wt1Rule(prof.profile_id, str(assay), metric, spec, float(t.value), t.unit, t.source)


def classify_wt1(value: float, rule: Wt1Rule) -> tuple[str, str]:
    """``(call, reason)`` for a WT1 level in the rule's metric.

    Examples
    --------
    >>> r = Wt1Rule("puih_2020", "a", "wt1_pct_abl1", "BM", 0.6, "% of ABL1", "Qin 2020")
    >>> classify_wt1(1.2, r)[0], classify_wt1(0.6, r)[0]
    ('positive', 'negative')
    """
    if rule.reason or math.isnan(rule.threshold):
        return NOT_EVALUABLE, f"{NOT_EVALUABLE}: no threshold ({rule.reason})"
    if math.isnan(value):
        return NOT_EVALUABLE, f"{NOT_EVALUABLE}: WT1 level not available"
    unit = rule.unit
    if value > rule.threshold:
        return "positive", f"positive: WT1 {value:.4g} > {rule.threshold:g} {unit} ({rule.specimen}, {rule.profile})"
    return "negative", f"negative: WT1 {value:.4g} <= {rule.threshold:g} {unit} ({rule.specimen}, {rule.profile})"
