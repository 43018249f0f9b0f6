"""Timeline rules: the ``timeline`` section of a profile, resolved and checked.

A profile's ``timeline.toml`` holds every parameter of the patient-level MRD rules with
its unit and source (see ``docs/calls.md``). :func:`timeline_rules` reads them, applies
keyword overrides (recorded with source ``"user override"``) and validates them once, so
the classifiers work on plain, checked values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..io.clinical import METHODS, SPECIMENS
from ..profiles import Profile, Threshold, load_profile

__all__ = ["TimelineRules", "timeline_rules", "PARAMETERS"]

#: parameter name -> short description (the keys of ``timeline.toml``)
PARAMETERS = {
    "specimens": "specimen types that count (e.g. ['BM'])",
    "methods": "methods combined per sample (subset of ['mfc', 'wt1'])",
    "confirmation_window_days": "max days between two consecutive positive samples for MRDco+ ('none' = no limit)",
    "consecutive": "'across' (either method in each sample) or 'within' (the same method twice)",
    "window_after_hsct_days": "only samples up to this day after HSCT count ('none' = no limit)",
    "assess_until": "'intervention' (samples up to the intervention date) or 'all'",
    "onset_boundary_days": "first positivity on or before this day after HSCT is early-onset",
    "level_high_mfc_pct": "MFC MRD % at or above which positivity is high-level",
    "level_high_wt1_pct": "WT1/ABL1 % at or above which positivity is high-level",
    "clearance_rule": "'one_negative' or 'two_consecutive_negative' samples negative by every method",
}

_NONE = "none"
_CONSECUTIVE = ("across", "within")
_ASSESS = ("intervention", "all")
_CLEARANCE = ("one_negative", "two_consecutive_negative")


@dataclass(frozen=True)
class TimelineRules:
    """Checked timeline parameters of one profile (after overrides).

    Attributes
    ----------
    profile_id : str
    specimens : tuple of str
    methods : tuple of str
    confirmation_window_days : int or None, days (None = no limit)
    consecutive : {"across", "within"}
    window_after_hsct_days : int or None, days after HSCT (None = no limit)
    assess_until : {"intervention", "all"}
    onset_boundary : Threshold (value None when the profile leaves it unset)
    level_high : dict of method -> Threshold (%)
    clearance_rule : {"one_negative", "two_consecutive_negative"}
    table : DataFrame
        ``profile_id, parameter, value, unit, source, reason`` of every timeline parameter.
    """

    profile_id: str
    specimens: tuple[str, ...]
    methods: tuple[str, ...]
    confirmation_window_days: int | None
    consecutive: str
    window_after_hsct_days: int | None
    assess_until: str
    onset_boundary: Threshold
    level_high: dict[str, Threshold] = field(repr=False)
    clearance_rule: str
    table: pd.DataFrame = field(repr=False)

    def columns(self) -> dict[str, Any]:
        """The parameter values as output columns (one value per column)."""
        return {
            "profile": self.profile_id,
            "specimens": ",".join(self.specimens),
            "methods": ",".join(self.methods),
            "consecutive": self.consecutive,
            "confirmation_window_days": _na(self.confirmation_window_days),
            "window_after_hsct_days": _na(self.window_after_hsct_days),
            "assess_until": self.assess_until,
            "onset_boundary_days": _na(self.onset_boundary.value),
            "level_high_mfc_pct": _na(self.level_high["mfc"].value),
            "level_high_wt1_pct": _na(self.level_high["wt1"].value),
            "clearance_rule": self.clearance_rule,
        }


def _na(value):
    return pd.NA if value is None else value


def timeline_rules(profile: "str | Profile" = "puih_2020", **params: Any) -> TimelineRules:
    """Resolve the timeline parameters of ``profile`` with keyword overrides.

    Parameters
    ----------
    profile : str, path or Profile, default "puih_2020"
    **params
        Any key of :data:`PARAMETERS`; ``None`` for a window means no limit.

    Raises
    ------
    ConfigError
        Unknown parameter, a profile without a ``timeline`` section, or a value of the
        wrong kind (the message names the parameter, the value and what is expected).
    """
    prof = load_profile(profile)
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ConfigError(
            f"unknown timeline parameter(s) {unknown}; expected some of {sorted(PARAMETERS)}"
        )
    if not prof.section("timeline"):
        raise ConfigError(
            f"profile {prof.profile_id!r} has no timeline section (timeline.toml); "
            "choose a profile with timeline rules, e.g. 'puih_2020' or 'zhao_2013'"
        )
    overrides = {}
    for key, value in params.items():
        if value is None and key.endswith("_days") and key != "onset_boundary_days":
            value = _NONE
        if isinstance(value, (list, tuple)):
            value = list(value)
        overrides[f"timeline__{key}"] = value
    if overrides:
        prof = prof.with_values(**overrides)

    def get(key: str) -> Threshold:
        try:
            return prof.threshold(f"timeline.{key}")
        except ConfigError as exc:
            raise ConfigError(
                f"profile {prof.profile_id!r}: timeline parameter {key!r} is missing "
                f"({PARAMETERS[key]})"
            ) from exc

    def required(key: str) -> Any:
        t = get(key)
        if not t.is_set:
            raise ConfigError(
                f"profile {prof.profile_id!r}: timeline.{key} is unset ({t.reason or 'no reason given'}); "
                f"it is needed to classify timelines: set it with --set {key}=VALUE on the command line "
                f"or {key}= in Python ({PARAMETERS[key]})"
            )
        return t.value

    def codes(key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = required(key)
        items = [value] if isinstance(value, str) else list(value)
        bad = [v for v in items if v not in allowed]
        if not items or bad:
            raise ConfigError(
                f"profile {prof.profile_id!r}: timeline.{key} = {value!r}; expected a non-empty "
                f"list drawn from {list(allowed)}"
            )
        return tuple(dict.fromkeys(items))

    def choice(key: str, allowed: tuple[str, ...]) -> str:
        value = required(key)
        if value not in allowed:
            raise ConfigError(
                f"profile {prof.profile_id!r}: timeline.{key} = {value!r}; expected one of {list(allowed)}"
            )
        return value

    def days(key: str) -> int | None:
        value = required(key)
        if isinstance(value, str) and value.strip().lower() == _NONE:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
            raise ConfigError(
                f"profile {prof.profile_id!r}: timeline.{key} = {value!r}; expected a whole "
                f"number of days >= 0 or 'none'"
            )
        return int(value)

    def optional_number(key: str, *, positive: bool) -> Threshold:
        t = get(key)
        if t.is_set:
            v = t.value
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (positive and v == 0):
                raise ConfigError(
                    f"profile {prof.profile_id!r}: timeline.{key} = {v!r}; expected a number "
                    f"{'> 0' if positive else '>= 0'} or 'unset' with a reason"
                )
        return t

    onset = optional_number("onset_boundary_days", positive=False)
    level_high = {
        "mfc": optional_number("level_high_mfc_pct", positive=True),
        "wt1": optional_number("level_high_wt1_pct", positive=True),
    }
    table = prof.table()
    table = table[table["parameter"].str.startswith("timeline.")].reset_index(drop=True)
    return TimelineRules(
        profile_id=prof.profile_id,
        specimens=codes("specimens", SPECIMENS),
        methods=codes("methods", METHODS),
        confirmation_window_days=days("confirmation_window_days"),
        consecutive=choice("consecutive", _CONSECUTIVE),
        window_after_hsct_days=days("window_after_hsct_days"),
        assess_until=choice("assess_until", _ASSESS),
        onset_boundary=onset,
        level_high=level_high,
        clearance_rule=choice("clearance_rule", _CLEARANCE),
        table=table,
    )
