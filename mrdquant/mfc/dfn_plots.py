"""Plots of DfN populations against the normal reference, for review by a person.

One panel per DfN population: the normal reference events as a grey density on the two
features that separate the population most (largest ``|shift_sd|``), the population's
events in red, the nearest normal mixture component as its 2-SD ellipse, and the size and
separating markers in the title.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .dfn import DfnResult
from .reference import NormalReference

__all__ = ["plot_dfn_populations", "DFN_PAGE_SUFFIX"]

#: a file's DfN figure beside its gating page: ``<file stem><DFN_PAGE_SUFFIX>.png``
#: (``mrdquant run``, ``flow --reference``; the patient report shows it under the page)
DFN_PAGE_SUFFIX = "_dfn"


def _ellipse(ax, mean, cov, **kw):
    from matplotlib.patches import Ellipse

    vals, vecs = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    w, h = 2 * 2 * np.sqrt(np.maximum(vals[::-1], 0))
    ax.add_patch(Ellipse(mean, w, h, angle=angle, fill=False, **kw))


def plot_dfn_populations(
    result: DfnResult,
    reference: NormalReference,
    path: "str | os.PathLike",
    *,
    max_populations: int = 6,
) -> Path:
    """Write a figure of each DfN population against the normal reference.

    Parameters
    ----------
    result : DfnResult
    reference : NormalReference
        The reference the result was computed with.
    path : str or path
        ``.png`` or ``.svg`` (by suffix); written atomically.
    max_populations : int, default 6
        Largest populations shown; a sample without population gets one panel of the
        reference with the count of scattered novel events.

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..io.store import atomic_path

    feats = list(reference.features)
    pops = result.populations.head(max_populations)
    n = max(1, len(pops))
    ncol = min(3, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(6.0, 4.2 * ncol), 4.3 * nrow), squeeze=False)
    ref_x = np.asarray(reference.plot_events, dtype=np.float64)
    ref_comp = reference.score(ref_x)[1] if len(ref_x) else np.empty(0, dtype=np.int32)
    for i in range(nrow * ncol):
        ax = axes[i // ncol][i % ncol]
        if i >= n:
            ax.axis("off")
            continue
        if len(pops):
            row = pops.iloc[i]
            shifts = np.array([row[f"shift_sd_{f}"] for f in feats])
            jx, jy = (int(j) for j in np.argsort(-np.abs(shifts))[:2])
            sel = result.aberrant_labels == int(row.population)
            pts = result.aberrant_features[sel]
            title = f"population {int(row.population)}: {int(row.events)} events ({row.pct_of_denominator:.3g}%)\n{row.separating_markers}"
        else:
            jx, jy = 0, 1
            pts = np.empty((0, len(feats)))
            title = f"no DfN population ({result.novel_events} scattered novel events)"
        ax.hist2d(ref_x[:, jx], ref_x[:, jy], bins=120, range=[[-0.05, 1.05], [-0.05, 1.05]], cmap="Greys", cmin=1,
                  norm=matplotlib.colors.LogNorm())
        if len(pts):
            k = int(row.nearest_component)
            near = ref_x[ref_comp == k]
            ax.scatter(near[:, jx], near[:, jy], s=2, c="tab:blue", alpha=0.35, linewidths=0,
                       label=f"nearest normal population ({100 * reference.mixture.weights[k]:.2g}% of normal)")
            ax.scatter(pts[:, jx], pts[:, jy], s=3, c="tab:red", alpha=0.6, linewidths=0, label="DfN events")
            m = reference.mixture
            _ellipse(ax, m.means[k, [jx, jy]], m.covariances[k][np.ix_([jx, jy], [jx, jy])], color="tab:blue", lw=1.2,
                     label="nearest normal (2 SD)")
            ax.legend(loc="lower right", fontsize=7, frameon=False)
        ax.set_xlabel(feats[jx])
        ax.set_ylabel(feats[jy])
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(title, fontsize=8)
    fig.suptitle(
        f"{result.sample_id or 'sample'}: DfN {result.status}, {result.laip_events} of "
        f"{result.denominator_events} events ({result.mrd_pct:.3g}%)\n"
        f"grey: normal reference ({reference.panel_id}); blue: nearest normal population; red: DfN events",
        fontsize=9,
    )
    fig.tight_layout()
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt, dpi=110)
    plt.close(fig)
    return target
