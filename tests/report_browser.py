"""Snakemake's HTML report opened in headless Chromium: what its app shows once loaded."""

import html
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


# After the report app has loaded, show each image result through the app itself and record how it was drawn.
HARNESS = """<script>
window.addEventListener('load', function () { setTimeout(hetstackCheck, 500); });
async function hetstackCheck() {
  const out = {text: document.body.innerText.slice(0, 3000), images: {}, others: {}};
  for (const [path, entry] of Object.entries(results)) {
    if (!String(entry.mime_type).startsWith('image/')) { out.others[path] = entry.mime_type; continue; }
    app.setView({content: 'img', contentPath: entry.data_uri, resultPath: path});
    await new Promise(r => setTimeout(r, 500));
    const img = [...document.querySelectorAll('img')].find(i => i.getAttribute('src') === entry.data_uri);
    out.images[path] = img ? {complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
                              shown: img.getBoundingClientRect().width, caption: entry.caption} : null;
  }
  const pre = document.createElement('pre'); pre.id = 'hetstack-check'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}
</script>"""


def chromium_or_skip() -> str:
    """Chromium's path; without it the test skips, or fails under CI (.ci/run installs it)."""
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI: .ci/run installs it with apt-get)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); this test opens the HTML report in it")
    return chromium


def open_report(chromium: str, report: Path) -> dict:
    """The report's first screen text (`text`), each image result as drawn (`images`) and the other
    results' types (`others`), read by HARNESS inside the report app."""
    page = report.read_text()
    cut = page.rfind("</body>")
    check = report.with_name("check.html")
    check.write_text(page[:cut] + HARNESS + page[cut:])
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                 f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom",
                                 check.as_uri()], capture_output=True, text=True, timeout=180)
    start = result.stdout.find('<pre id="hetstack-check">')
    assert start >= 0, f"the report app did not run its check:\n{result.stderr[-2000:]}"
    end = result.stdout.find("</pre>", start)
    return json.loads(html.unescape(result.stdout[start + len('<pre id="hetstack-check">'):end]))
