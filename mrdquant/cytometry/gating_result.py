"""The result of gating one sample: memberships, counts and processed events.

:class:`GatingResult` holds one boolean membership row per population of the strategy
(parent applied); :meth:`GatingResult.counts` is the tidy counts table
(:data:`COUNTS_COLUMNS`) and :meth:`GatingResult.events` the processed values of a
gate's member events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .gating import GatingStrategy

__all__ = ["GatingResult", "COUNTS_COLUMNS"]

#: column order of :meth:`GatingResult.counts`
COUNTS_COLUMNS = ["sample_id", "gate_path", "gate", "parent", "count", "percent_parent", "percent_root"]


@dataclass(frozen=True, eq=False)
class GatingResult:
    """Memberships of every population of a strategy in one sample.

    Attributes
    ----------
    sample_id : str
    strategy : GatingStrategy
    n_events : int
    masks : ndarray of shape (n_populations, n_events), bool
        Row i is the membership (parent applied) of ``strategy.gate_paths[i]``.
    sample : FlowSample
        The gated sample (used by :meth:`events`).
    """

    sample_id: str
    strategy: GatingStrategy
    n_events: int
    masks: np.ndarray = field(repr=False)
    sample: object = field(repr=False)

    def membership(self, gate) -> np.ndarray:
        """Boolean membership (parent applied) of a gate.

        Parameters
        ----------
        gate : str or tuple of str
            The gate's name as :meth:`counts` lists it (or its id) when no other population
            of the strategy carries that name, or its full path (``"/A/B"`` or
            ``("A", "B")``), which always works. An ambiguous name raises
            :class:`~mrdquant.errors.GatingError` listing the matching paths.

        Returns
        -------
        ndarray of shape (n_events,), bool (read-only view)
        """
        node = self.strategy._node(gate)
        m = self.masks[node.index]
        m.flags.writeable = False
        return m

    def count(self, gate) -> int:
        """Number of events in a gate (parent applied); ``gate`` as in :meth:`membership`."""
        return int(np.count_nonzero(self.masks[self.strategy._node(gate).index]))

    def counts(self) -> pd.DataFrame:
        """One row per population.

        Returns
        -------
        pandas.DataFrame
            Columns ``sample_id`` (str), ``gate_path`` (str, ``"/parent/gate"``), ``gate``
            (str, display name), ``parent`` (str, parent's display name or ``"root"``),
            ``count`` (int64, events), ``percent_parent`` (float64, % of the parent's
            events; NaN when the parent is empty), ``percent_root`` (float64, % of all
            events; NaN for an empty sample).
        """
        nodes = self.strategy._nodes
        counts = np.array([int(np.count_nonzero(self.masks[n.index])) for n in nodes], dtype=np.int64)
        names = self.strategy.names
        parent_counts = np.array([self.n_events if n.parent < 0 else counts[n.parent] for n in nodes],
                                 dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            pp = np.where(parent_counts > 0, 100.0 * counts / np.where(parent_counts > 0, parent_counts, 1), np.nan)
            pr = (100.0 * counts / self.n_events) if self.n_events else np.full(len(nodes), np.nan)
        return pd.DataFrame({
            "sample_id": [self.sample_id] * len(nodes),
            "gate_path": [n.path for n in nodes],
            "gate": [names.get(n.id, n.id) for n in nodes],
            "parent": ["root" if n.parent < 0 else names.get(nodes[n.parent].id, nodes[n.parent].id) for n in nodes],
            "count": counts,
            "percent_parent": pp.astype(np.float64),
            "percent_root": np.asarray(pr, dtype=np.float64),
        }, columns=COUNTS_COLUMNS)

    def events(self, gate) -> pd.DataFrame:
        """Processed (compensated, transformed) values of the gate's member events.

        Returns
        -------
        pandas.DataFrame
            One row per member event (index = event number in the file), one column per
            processed dimension of the strategy, named like ``"FL1-H[MySpill|Logicle]"``
            (channel, then compensation and transform when used).
        """
        rows = np.flatnonzero(self.membership(gate))
        plan = self.strategy._prepare(self.sample)
        df = plan.values(rows)
        df.index = pd.Index(rows, name="event")
        return df
