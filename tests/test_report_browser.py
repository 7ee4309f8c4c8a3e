"""report.html in a real headless Chromium (the Debian package; .ci/run installs it).

Checks that the page loads with no console errors, that every chart's SVG is laid out with
a non-zero size and has marks, that the county table shows the right names for real
Pingliang codes, and that no unmasked ID number or phone of the input appears anywhere in
the HTML; a screenshot is saved.  Skipped only when Chromium is missing outside CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from linkage.pipeline import run
from linkage.report import build_report
from linkage.synth import generate_population

from helpers import read_csv

pytestmark = pytest.mark.slow

# Runs inside the page after load: what the browser actually laid out, written into the DOM
# that --dump-dom prints.
_PROBE = """<script>
window.addEventListener('load', () => {
  const charts = [...document.querySelectorAll('[data-chart]')].map(div => {
    const svg = div.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {name: div.dataset.chart, width: box.width, height: box.height,
            marks: svg ? svg.querySelectorAll('path, rect, line, text').length : 0};
  });
  const names = [...document.querySelectorAll('#counties tbody tr')].map(
    tr => [tr.cells[0].textContent, tr.cells[1].textContent]);
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({charts, names});
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    found = chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs the Debian package)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    return found


def _run_chromium(browser: str, args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("browser")
    generate_population(800, 9, folder)
    out = folder / "out"
    run(folder / "archives.csv", out, show_progress=False)
    build_report(out)
    return out / "report.html", folder / "archives.csv"


def test_report_renders_in_chromium(browser: str, report: tuple[Path, Path], tmp_path: Path) -> None:
    html_path, _ = report
    probe = tmp_path / "probe.html"
    probe.write_text(html_path.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"),
                     encoding="utf-8")
    result = _run_chromium(browser, ["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    match = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert match, "the page did not finish loading"
    facts = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    names = {"burn_down", "open_by_township", "review_queue", "weight_distribution", "model_weights"}
    assert {c["name"] for c in facts["charts"]} == names
    for chart in facts["charts"]:
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["marks"] > 10, chart
    counties = dict(facts["names"])
    assert counties["620802"] == "平凉市崆峒区"
    assert counties["620821"] == "平凉市泾川县"
    assert counties["620102"] == "兰州市城关区"

    shot = tmp_path / "report.png"
    result = _run_chromium(browser, ["--window-size=1280,2400", "--hide-scrollbars",
                                     f"--screenshot={shot}", html_path.as_uri()], tmp_path)
    assert result.returncode == 0 and shot.stat().st_size > 20_000
    keep = os.environ.get("LINKAGE_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "report.png")


def test_no_unmasked_identifiers_in_html(report: tuple[Path, Path]) -> None:
    html_path, archives = report
    html = html_path.read_text(encoding="utf-8")
    rows = read_csv(archives)
    ids = {r["id_number"].strip().upper() for r in rows if len(r["id_number"].strip()) >= 15}
    phones = {re.sub(r"\D", "", r["phone"]) for r in rows if len(re.sub(r"\D", "", r["phone"])) >= 7}
    assert ids and phones
    assert not [i for i in ids if i in html.upper()]
    assert not [p for p in phones if p in html]
    # Nothing ID- or mobile-shaped at all (hashes are hex, so look for digit runs alone).
    assert not re.search(r"(?<![0-9A-Fa-f])\d{17}[\dXx](?![0-9A-Fa-f])", html)
    assert not re.search(r"(?<![0-9A-Fa-f])1[3-9]\d{9}(?![0-9A-Fa-f])", html)
