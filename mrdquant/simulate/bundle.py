"""The bundled example inputs (``data_samples/``): one place that says what is in them."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_all_data_samples", "DATA_SAMPLE_FOLDERS"]

#: sub-folder -> simulator module whose ``write_data_samples(folder)`` fills it
DATA_SAMPLE_FOLDERS = {"flow": "flow", "qpcr": "qpcr", "cohort": "cohort", "trial": "trial", "study": "study"}


def write_all_data_samples(outdir: "str | Path") -> list[Path]:
    """Regenerate every bundled example input into ``outdir`` (deterministic, fixed seeds).

    Returns
    -------
    list of pathlib.Path
        The files written, folder by folder (``flow/``, ``qpcr/``, ``cohort/``, ``trial/``, ``study/``).
    """
    import importlib

    root = Path(outdir)
    written: list[Path] = []
    for folder, module in DATA_SAMPLE_FOLDERS.items():
        sim = importlib.import_module(f"{__package__}.{module}")
        written += sim.write_data_samples(root / folder)
    return written
