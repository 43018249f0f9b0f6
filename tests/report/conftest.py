"""Render a static HTML file in headless Chromium and report what a reader would see.

The page is copied beside itself with a small script appended; after the load event the
script writes, into the DOM, whether every image loaded (``naturalWidth > 0``), whether
any image is wider than its container, and every element whose text is clipped
(``overflow: hidden/clip`` or ``text-overflow: ellipsis`` with content wider than the box).
Chromium's ``--dump-dom`` prints that DOM; no extra Python package is needed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var images = Array.from(document.images).map(function (im) {
    var box = im.getBoundingClientRect(), parent = im.parentElement.getBoundingClientRect();
    return {alt: im.alt, loaded: im.complete && im.naturalWidth > 0, width: box.width,
            parentWidth: parent.width, src: im.src.slice(0, 30)};
  });
  var clipped = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var cs = getComputedStyle(el);
    var hides = ["hidden", "clip"].indexOf(cs.overflowX) >= 0 || cs.textOverflow === "ellipsis";
    if (hides && el.scrollWidth > el.clientWidth + 1) clipped.push(el.tagName + ": " + (el.textContent || "").slice(0, 80));
  });
  var out = document.createElement("pre");
  out.id = "mrdquant-check";
  out.textContent = JSON.stringify({images: images, clipped: clipped,
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    text: document.body.innerText.length});
  document.body.appendChild(out);
});
</script>
"""

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float = 180) -> str:
    with tempfile.TemporaryDirectory(prefix="mrdquant-chromium-") as profile:
        proc = subprocess.run([chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)
    return proc.stdout


def check_page(html: Path, *, width: int = 1280, height: int = 900) -> dict:
    """Load ``html`` (its images must be embedded: the copy sits elsewhere) and return the check."""
    with tempfile.TemporaryDirectory(prefix="mrdquant-page-") as tmp:
        page = Path(tmp) / html.name
        page.write_text(html.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"),
                        encoding="utf-8")
        dom = _run([f"--window-size={width},{height}", "--virtual-time-budget=10000", "--dump-dom",
                    page.as_uri()])
    m = re.search(r'<pre id="mrdquant-check">(.*?)</pre>', dom, re.S)
    if not m:
        raise AssertionError(f"chromium printed no check for {html} (output starts {dom[:300]!r})")
    import html as _html

    return json.loads(_html.unescape(m.group(1)))


def screenshot(html: Path, target: Path, *, width: int = 1280, height: int = 1600) -> Path:
    """A PNG screenshot of the top ``height`` pixels of the page."""
    _run([f"--window-size={width},{height}", "--virtual-time-budget=10000", f"--screenshot={target}",
          html.resolve().as_uri()])
    return target


class _Browser:
    check_page = staticmethod(check_page)
    screenshot = staticmethod(screenshot)


@pytest.fixture(scope="session")
def chromium():
    """Headless Chromium helpers; skips with the reason when no Chromium is installed."""
    if chromium_binary() is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")
    return _Browser()
