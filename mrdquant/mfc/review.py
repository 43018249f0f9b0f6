"""One tube's review files: the pictures and workspace an analyst checks before signing.

:func:`write_review_files` writes, into one folder and named by the tube's file stem:

- ``<stem>.png``: the gating page (:func:`mrdquant.mfc.plots.plot_gating`);
- ``<stem>_dfn.png``: the DfN populations against the normal reference, when the tube
  has any (:func:`mrdquant.mfc.dfn_plots.plot_dfn_populations`);
- ``<stem>.wsp``: the placed gates as a FlowJo workspace (:func:`mrdquant.export_flowjo`).

``mrdquant flow`` and the study runner both write them through it. Given the tube's
:class:`~mrdquant.mfc.PreparedSample` (:func:`mrdquant.mfc.quantify.prepare_tube`), the
pictures use its event values rather than preparing the file again.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MrdquantError

__all__ = ["write_review_files", "review_paths"]


def review_paths(folder: "str | os.PathLike", sample_id: str) -> dict[str, Path]:
    """Where :func:`write_review_files` puts a tube's files: ``{"page", "dfn_page", "workspace"}``."""
    from .dfn_plots import DFN_PAGE_SUFFIX

    stem = Path(sample_id).stem
    folder = Path(folder)
    return {"page": folder / f"{stem}.png", "dfn_page": folder / f"{stem}{DFN_PAGE_SUFFIX}.png",
            "workspace": folder / f"{stem}.wsp"}


def write_review_files(
    folder: "str | os.PathLike",
    result,
    sample,
    *,
    panel=None,
    dfn=None,
    reference=None,
    page: bool = True,
    workspace: bool = True,
) -> list[str]:
    """Write one tube's gating page, DfN page and FlowJo workspace; report what failed.

    Parameters
    ----------
    folder : path
        Output folder (created when needed).
    result : MfcResult
        The tube's result (:func:`mrdquant.quantify_mfc`); files are named by the stem of
        its ``sample_id``. A result without placed gates (not evaluable) gets no files.
    sample : PreparedSample, FlowSample or path
        The tube the result was computed from; a PreparedSample is drawn from as is.
    panel : str, path or Panel, optional
        The result's panel, for the workspace's axes (default: the one its provenance names).
    dfn : DfnResult, optional
        With ``reference``: the tube's DfN result; its populations get ``<stem>_dfn.png``
        when there are any.
    reference : NormalReference, optional
    page : bool, default True
        Write the gating page (and the DfN page).
    workspace : bool, default True
        Write the FlowJo workspace.

    Returns
    -------
    list of str
        One line per file that could not be written (``"gating page not written: ..."``);
        empty when every file was. Each file is written atomically and a failure of one
        does not stop the others, so a result is never lost to a picture.
    """
    if result.gates is None or not len(result.gates):
        return []
    paths = review_paths(folder, result.sample_id)
    steps = []
    if page:
        from .plots import plot_gating

        steps.append(("gating page", lambda: plot_gating(result, paths["page"], sample=sample)))
        if dfn is not None and reference is not None and len(dfn.populations):
            from .dfn_plots import plot_dfn_populations

            steps.append(("DfN page", lambda: plot_dfn_populations(dfn, reference, paths["dfn_page"])))
    if workspace:
        from .flowjo import export_flowjo

        steps.append(("FlowJo workspace", lambda: export_flowjo(result, sample, paths["workspace"], panel=panel)))
    problems = []
    for what, write in steps:
        try:
            write()
        except (MrdquantError, OSError, ValueError) as exc:
            problems.append(f"{what} not written: {exc}")
    return problems
