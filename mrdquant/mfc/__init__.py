"""Flow MRD from FCS files: panels as data, acquisition QC, per-sample gate placement, LAIPs.

``load_panel`` / ``list_panels`` read the marker-based panels (``docs/panels.md``);
``prepare`` resolves a file's channels, runs acquisition QC and places the panel's gates;
``quantify_mfc`` turns that into an :class:`~mrdquant.cytometry.laip.MfcResult`
(``docs/mfc-mrd.md``).
"""

from __future__ import annotations

from .._lazy import attach

_LAZY = {
    "Panel": ".panels",
    "load_panel": ".panels",
    "list_panels": ".panels",
    "normalize_marker": ".panels",
    "resolve_channels": ".markers",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
