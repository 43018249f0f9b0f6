"""Regenerate the report images of docs/reports.md from the bundled data.

Run from the repository root:  python docs/make_report_images.py
Needs Debian's chromium for the page screenshots (skipped otherwise). Writes docs/img/*.png,
downscaled and palette-quantized so they stay small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"


def small(src: Path, name: str, width: int = 900) -> None:
    im = Image.open(src).convert("RGB")
    if im.width > width:
        im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    im.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(IMG / name, optimize=True)


def shot(page: Path, target: Path, height: int) -> bool:
    chromium = shutil.which("chromium")
    if chromium is None:
        return False
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size=1280,{height}",
                        "--virtual-time-budget=10000", f"--screenshot={target}", page.as_uri()],
                       capture_output=True, timeout=180)
    return target.is_file()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from mrdquant.cli._demo import run_demo
    from mrdquant.io.qpcr_curves import read_amplification
    from mrdquant.report.qpcr_plots import plot_amplification

    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        run_demo(out, echo=lambda *a, **k: None)
        fig = out / "report" / "figures"
        for png in sorted(fig.glob("*.png")):
            if png.stem.startswith(("cif_", "km_", "trial_", "kinetics_", "qpcr_")) and "ABL1" not in png.stem:
                small(png, f"report_{png.stem}.png")
        rdml = ROOT.parent / "shared" / "data" / "qpcr" / "RDML__stepone_std.rdml"
        if rdml.is_file():
            plot_amplification(read_amplification(rdml), path=Path(tmp) / "amp.png")
            small(Path(tmp) / "amp.png", "report_qpcr_amplification.png")
        # a gating page of a positive tube, as the flow stage writes it
        mfc = pd.read_csv(out / "flow" / "mfc_results.csv")
        positive = mfc[mfc["status"] == "positive"]["sample_id"].sort_values()
        if len(positive):
            small(out / "flow" / "plots" / f"{Path(positive.iloc[0]).stem}.png", "report_gating_page.png", width=1100)
        pages = out / "report"
        # the outcomes section alone: a copy of the page showing only that section
        study = (pages / "study.html").read_text(encoding="utf-8")
        only = pages / "study_outcomes.html"
        only.write_text(study.replace("</head>", "<style>main section:not(#outcomes){display:none}</style></head>"),
                        encoding="utf-8")
        for page, name, height in ((pages / "study.html", "report_study_top.png", 1400),
                                   (only, "report_study_outcomes.png", 1700),
                                   (pages / "patients" / "P0002.html", "report_patient.png", 1500)):
            target = Path(tmp) / name
            if shot(page, target, height):
                small(target, name, width=1000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
