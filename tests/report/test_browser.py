"""Render a report in headless Chromium and check every section is laid out and visible.

Needs a Chromium binary (Debian: ``apt-get install chromium``); set ``LANDAULAB_CHROMIUM``
to use another one. Run with ``pytest -m browser tests/report``.

The report itself has no script. The test renders an instrumented *copy* whose only
addition is a script that measures each section after layout (its box, its computed
display, visibility and opacity, and whether every figure decoded) and writes the result
into the page, which ``--dump-dom`` then prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from landaulab.report import ReportResult
from landaulab.report.html import SECTION_IDS
from tests.report.htmlcheck import PNG_MAGIC

pytestmark = pytest.mark.browser

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

_PROBE = """
<script>
window.addEventListener("load", function () {
  var out = {sections: {}, images: []};
  document.querySelectorAll("main > section").forEach(function (el) {
    var box = el.getBoundingClientRect();
    var style = window.getComputedStyle(el);
    var heading = el.querySelector("h2");
    out.sections[el.id] = {
      width: box.width, height: box.height, top: box.top + window.scrollY,
      display: style.display, visibility: style.visibility,
      opacity: parseFloat(style.opacity),
      heading: heading ? heading.getBoundingClientRect().height : 0,
      text: (el.innerText || "").length
    };
  });
  document.querySelectorAll("img").forEach(function (img) {
    out.images.push({complete: img.complete, width: img.naturalWidth,
                     shown: img.getBoundingClientRect().width});
  });
  var pre = document.createElement("pre");
  pre.id = "probe-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str | None:
    override = os.environ.get("LANDAULAB_CHROMIUM")
    if override:
        return override if Path(override).exists() or shutil.which(override) else None
    return next((path for name in _CANDIDATES if (path := shutil.which(name))), None)


def _run(binary: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = _chromium()
    if binary is None:
        pytest.skip(
            "no Chromium binary found (install Debian's 'chromium' package, or set "
            "LANDAULAB_CHROMIUM to a Chromium/Chrome executable)"
        )
    return binary


def test_every_section_is_visible_in_chromium(
    chromium: str, first_order_report: ReportResult, tmp_path: Path
) -> None:
    page = first_order_report.html.read_text(encoding="utf-8")
    assert "<script" not in page
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    done = _run(
        chromium,
        tmp_path / "profile-dom",
        "--window-size=1200,900",
        "--virtual-time-budget=15000",
        "--dump-dom",
        probe.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.DOTALL)
    assert match, "the page did not finish loading in Chromium"
    result = json.loads(
        match.group(1)
        .replace("&quot;", '"')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )
    sections = result["sections"]
    assert list(sections) == list(SECTION_IDS)
    tops = []
    for name, box in sections.items():
        assert box["display"] != "none" and box["visibility"] == "visible", name
        assert box["opacity"] > 0.5, name
        assert box["width"] > 300 and box["height"] > 40, (name, box)
        assert box["heading"] > 10 and box["text"] > 20, (name, box)
        tops.append(box["top"])
    assert tops == sorted(tops), "sections overlap or are out of order"
    assert result["images"], "no figure in the page"
    for image in result["images"]:
        assert image["complete"] and image["width"] > 100 and image["shown"] > 100, image


def test_report_renders_to_a_screenshot(
    chromium: str, first_order_report: ReportResult, tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    done = _run(
        chromium,
        tmp_path / "profile-shot",
        "--window-size=1100,2400",
        f"--screenshot={shot}",
        first_order_report.html.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 50_000  # text and figures, not a blank page
