"""outputs/report.html in headless Chromium: it loads cleanly, every figure shows, it prints.

The page is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``, file
descriptors 3 and 4), so the test needs no Python package beyond the standard library and
Pillow (a matplotlib dependency) and sees what a person's browser would: console errors,
uncaught exceptions, failed loads, every network request, the laid-out size of every figure,
a screenshot of each one, and the PDF that printing produces.

Chromium missing: the tests are skipped on a workstation and fail under ``CI`` (``.ci/run``
installs it). The ``test_check_*`` tests run the same checks on broken pages, to show the
checks fail when they should.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT

TIMEOUT = 120  # seconds for any one browser step; a cold Chromium start can take several
DESKTOP = (1280, 900)  # CSS pixels
PRINT_WIDTH = 739  # CSS pixels inside the default printToPDF page: 8.5 in - 2 x 0.4 in margins, at 96 px/in
ALLOWED_SCHEMES = ("data:", "about:", "chrome-error:")  # a self-contained page fetches nothing else

#: Measured in the page: every top-level figure (inline <svg> or <img>), table, heading and link.
MEASURE = r"""(() => {
  const shown = el => {
    const s = getComputedStyle(el);
    const css = s.display !== 'none' && s.visibility === 'visible' && Number(s.opacity) > 0;
    const check = el.checkVisibility ? el.checkVisibility(
      {checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true}) : true;
    return css && check;
  };
  const box = el => {
    const r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height, shown: shown(el)};
  };
  const figures = [...document.querySelectorAll('svg, img')].filter(e => !e.parentElement.closest('svg'));
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const print = el => {
    const s = getComputedStyle(el);
    return {tag: el.tagName.toLowerCase(), breakInside: s.breakInside, breakAfter: s.breakAfter,
            overflowX: s.overflowX};
  };
  return {
    figures: figures.map(e => ({...box(e), tag: e.tagName.toLowerCase(),
                                label: (e.closest('[data-figure]') || e).getAttribute('data-figure') || e.id || '',
                                loaded: e.tagName !== 'IMG' || (e.complete && e.naturalWidth > 0)})),
    tables: [...document.querySelectorAll('table')].map(box),
    sections: [...document.querySelectorAll('section.analysis')].map(s => ({
      id: s.id, figures: s.querySelectorAll('figure svg, figure img').length,
      tables: s.querySelectorAll('table').length})),
    brokenAnchors: [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'))
      .filter(h => !document.getElementById(decodeURIComponent(h.slice(1)))),
    duplicateIds: [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))],
    badLinks: [...document.querySelectorAll('a')]
      .filter(a => !/^(#.|https?:\/\/.|mailto:.)/.test(a.getAttribute('href') || '') || !a.textContent.trim())
      .map(a => a.outerHTML.slice(0, 80)),
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    title: document.title,
    url: location.href,
    print: [...document.querySelectorAll('figure, table.comparison, tr, h2, h3')].map(print),
  };
})()"""


def find_chromium() -> str:
    """The browser to drive; skip without it on a workstation, fail without it under CI."""
    exe = os.environ.get("TRIALMETA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    if os.environ.get("CI"):
        pytest.fail("CI is set but Chromium is not installed: .ci/run installs it with "
                    "`apt-get install -y chromium`; the HTML report test cannot run without it")
    pytest.skip("Chromium is not installed (apt-get install chromium); under CI=true this is a failure")


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (NUL-separated JSON)."""

    def __init__(self, exe: str, profile: Path):
        to_chrome_r, self._out = os.pipe()
        self._in, from_chrome_w = os.pipe()
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-extensions", "--disable-sync",
                "--no-first-run", "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
                f"--window-size={DESKTOP[0]},{DESKTOP[1]}", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        # Chromium reads commands on fd 3 and answers on fd 4; bash (unlike dash, any fd number) puts them there.
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}', exe, *args],
            pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = bytearray()
        self._next = 0
        self.events: list[dict] = []
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self._next)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_for(self, event: str, since: int = 0) -> dict:
        """The first ``event`` among the events from index ``since`` on, waiting for it if need be."""
        seen = [e for e in self.events[since:] if e.get("method") == event]
        return seen[0] if seen else self._read_until(lambda m: m.get("method") == event)

    def _read_until(self, wanted) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            while (end := self._buf.find(b"\0")) >= 0:
                msg = json.loads(self._buf[:end])
                del self._buf[:end + 1]
                if "id" not in msg:
                    self.events.append(msg)
                if wanted(msg):
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Chromium did not answer within {TIMEOUT} s")
            if select.select([self._in], [], [], left)[0]:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium exited (status {self.proc.poll()})")
                self._buf += chunk

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, clip: dict | None = None) -> bytes:
        params = {"format": "png"}
        if clip:
            params.update(clip={**clip, "scale": 1}, captureBeyondViewport=True)
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self.proc.wait(timeout=30)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: the browser and its helpers
                self.proc.wait()
            os.close(self._in)
            os.close(self._out)


def figure_screenshots(browser: Browser, screen: dict, tile: int = 12_000) -> list[bytes]:
    """A PNG of each figure, cut from a few screenshots of the whole page (one per figure is slow)."""
    from PIL import Image

    figures = screen["figures"]
    height, width = browser.evaluate("document.documentElement.scrollHeight"), screen["clientWidth"]
    tiles, y = [], 0
    while y < height:
        end = min(height, y + tile)
        for f in figures:  # never cut through a figure
            if y < f["y"] < end < f["y"] + f["height"]:
                end = int(f["y"])
        png = browser.screenshot({"x": 0, "y": y, "width": width, "height": end - y})
        tiles.append((y, Image.open(io.BytesIO(png))))
        y = end
    shots = []
    for f in figures:
        top, img = next((t, img) for t, img in reversed(tiles) if t <= max(0, f["y"]))
        box = (max(0, int(f["x"])), int(f["y"]) - top,  # clamped: PIL pads outside the image with black "ink"
               min(img.width, int(f["x"] + f["width"])), min(img.height, int(f["y"] + f["height"]) - top))
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            shots.append(b"")
            continue
        buf = io.BytesIO()
        img.crop(box).save(buf, format="png")
        shots.append(buf.getvalue())
    return shots


def render(exe: str, page: Path, profile: Path, figure_shots: bool = True) -> dict:
    """Load ``page`` at desktop size, measure it, screenshot it and every figure, then print it."""
    browser = Browser(exe, profile)
    try:
        started = time.monotonic()
        browser.call("Emulation.setDeviceMetricsOverride", width=DESKTOP[0], height=DESKTOP[1],
                     deviceScaleFactor=1, mobile=False)
        since = len(browser.events)  # not the load event of the initial about:blank
        browser.call("Page.navigate", url=page.resolve().as_uri())
        browser.wait_for("Page.loadEventFired", since)
        browser.evaluate("document.fonts.ready.then(() => true)")
        loaded = time.monotonic() - started
        screen = browser.evaluate(MEASURE)
        assert screen["url"] == page.resolve().as_uri(), screen["url"]
        shot = browser.screenshot()
        figures = figure_screenshots(browser, screen) if figure_shots else [b""] * len(screen["figures"])
        browser.call("Emulation.setDeviceMetricsOverride", width=PRINT_WIDTH, height=DESKTOP[1],
                     deviceScaleFactor=1, mobile=False)
        browser.call("Emulation.setEmulatedMedia", media="print")
        paper = browser.evaluate(MEASURE)
        browser.call("Emulation.setEmulatedMedia", media="")
        browser.call("Emulation.clearDeviceMetricsOverride")
        pdf = base64.b64decode(browser.call("Page.printToPDF", printBackground=True)["data"])
        return {"events": browser.events, "screen": screen, "paper": paper, "screenshot": shot,
                "figure_shots": figures, "pdf": pdf, "page": page.resolve().as_uri(),
                "seconds": {"load": loaded, "total": time.monotonic() - started}}
    finally:
        browser.close()


# ---- the checks, each a list of problems (empty = fine) --------------------------------------

def console_errors(run: dict) -> list[str]:
    """Console errors, uncaught exceptions, failed loads and any request that leaves the file."""
    problems = []
    for e in run["events"]:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            problems.append("console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
        elif e["method"] == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            problems.append(f"uncaught: {d.get('exception', {}).get('description', d['text'])}")
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
            problems.append(f"log error ({p['entry']['source']}): {p['entry']['text']} {p['entry'].get('url', '')}")
        elif e["method"] == "Network.loadingFailed" and not p.get("canceled"):
            problems.append(f"failed load: {p['errorText']}")
        elif e["method"] == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if url != run["page"] and not url.startswith(ALLOWED_SCHEMES):
                problems.append(f"not self-contained: fetches {url}")
    return problems


def ink(png: bytes) -> float:
    """Share of pixels that differ clearly from the image's most common (background) colour."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("L")
    hist = img.histogram()
    background = max(range(256), key=hist.__getitem__)
    return sum(n for v, n in enumerate(hist) if abs(v - background) > 40) / max(1, img.width * img.height)


def figure_problems(run: dict, expected: int) -> list[str]:
    """Each of the ``expected`` figures laid out, not hidden, and painting something."""
    figs = run["screen"]["figures"]
    problems = [] if len(figs) == expected else [f"{len(figs)} figures in the page, {expected} in the file"]
    for f, png in zip(figs, run["figure_shots"]):
        name = f"{f['tag']} {f['label']!r}"
        if f["width"] < 50 or f["height"] < 30:
            problems.append(f"{name} is {f['width']:.0f} x {f['height']:.0f} px")
        elif not f["shown"] or not f["loaded"]:
            problems.append(f"{name} is hidden or did not load")
        elif not png or ink(png) < 0.002:
            problems.append(f"{name} paints nothing (ink {ink(png) if png else 0:.4f})")
        elif f["x"] + f["width"] > run["screen"]["clientWidth"] + 1:
            problems.append(f"{name} runs off the right edge of a {DESKTOP[0]} px window")
    return problems


def print_problems(run: dict) -> list[str]:
    """Printing: a real multi-page PDF; figures and small tables kept whole, no heading left alone."""
    problems = []
    pdf = run["pdf"]
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    if not pdf.startswith(b"%PDF") or pages < 1:
        problems.append(f"printing gave no PDF ({len(pdf)} bytes, {pages} pages)")
    for el in run["paper"]["print"]:
        tag = el["tag"]
        if tag in ("figure", "table", "tr") and el["breakInside"] not in ("avoid", "avoid-page"):
            problems.append(f"<{tag}> may split across pages (break-inside: {el['breakInside']})")
        if tag in ("h2", "h3") and el["breakAfter"] not in ("avoid", "avoid-page"):
            problems.append(f"<{tag}> may be left alone at the foot of a page (break-after: {el['breakAfter']})")
        if tag == "figure" and el["overflowX"] not in ("visible", "clip"):
            problems.append(f"<figure> clips its content on paper (overflow-x: {el['overflowX']})")
    for f in run["paper"]["figures"]:
        if f["x"] + f["width"] > PRINT_WIDTH + 1:
            problems.append(f"{f['tag']} {f['label']!r} is wider than the printed page ({f['width']:.0f} px)")
    wide = [t for t in run["paper"]["tables"] if t["x"] + t["width"] > PRINT_WIDTH + 1]
    if wide or run["paper"]["scrollWidth"] > PRINT_WIDTH + 1:
        problems.append(f"{len(wide)} tables, page {run['paper']['scrollWidth']} px: wider than the printed page")
    return sorted(set(problems))


# ---- the report ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium() -> str:
    return find_chromium()


@pytest.fixture(scope="module")
def report(refreshed) -> Path:
    """The outputs of one ``trialmeta refresh`` of the registry (shared by the session; read only)."""
    return refreshed / "outputs"


@pytest.fixture(scope="module")
def rendered(chromium, report, tmp_path_factory, request) -> dict:
    run = render(chromium, report / "report.html", tmp_path_factory.mktemp("chromium-profile"))
    if request.config.getoption("--save-figures"):
        out = ROOT / "tests" / "_artifacts"
        out.mkdir(exist_ok=True)
        (out / "report-desktop.png").write_bytes(run["screenshot"])
        (out / "report.pdf").write_bytes(run["pdf"])
    print(f"report.html: loaded in {run['seconds']['load']:.1f} s, all checks in {run['seconds']['total']:.1f} s")
    return run


def test_report_loads_without_console_errors(rendered):
    assert console_errors(rendered) == []
    assert rendered["screen"]["title"] == "trialmeta evidence report"


def test_every_figure_is_visible(rendered, report):
    html = (report / "report.html").read_text()
    expected = len(re.findall(r"<svg\b", html)) + len(re.findall(r"<img\b", html))
    names = [a["name"] for a in json.loads((report / "evidence.json").read_text())["analyses"]]
    assert expected >= len(names)
    assert figure_problems(rendered, expected) == []
    # every analysis shows its forest plot, its summary of findings, its GRADE table and both evidence tables
    sections = {s["id"]: s for s in rendered["screen"]["sections"]}
    assert sorted(sections) == sorted(names)
    assert all(s["figures"] >= 1 and s["tables"] == 4 for s in sections.values()), sections


def test_every_table_is_laid_out(rendered, report):
    tables = rendered["screen"]["tables"]
    assert len(tables) == (report / "report.html").read_text().count("<table")
    assert all(t["shown"] and t["width"] > 100 and t["height"] > 20 for t in tables)


def test_links_and_ids(rendered):
    screen = rendered["screen"]
    assert screen["brokenAnchors"] == []
    assert screen["duplicateIds"] == []  # inlined figures must not share ids (clip paths, gradients)
    assert screen["badLinks"] == []  # no empty, relative, javascript: or textless links


def test_screenshot_is_not_blank(rendered):
    from PIL import Image

    img = Image.open(io.BytesIO(rendered["screenshot"]))
    assert img.size == DESKTOP
    assert ink(rendered["screenshot"]) > 0.01
    assert len(img.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 16  # text, lines, links


def test_report_prints(rendered):
    assert print_problems(rendered) == []
    assert len(rendered["pdf"]) > 50_000


# ---- the checks can fail -------------------------------------------------------------------

BROKEN = {
    "uncaught exception": ("<script>throw new Error('x')</script>", "uncaught: Error: x"),
    "console.error": ("<script>console.error('bad thing')</script>", "console.error: bad thing"),
    "missing image": ('<img src="missing.png" alt="">', "failed load"),
    "external resource": ('<link rel="stylesheet" href="https://example.invalid/a.css">', "not self-contained"),
}
FIGURE = ('<figure class="figure" data-figure="{name}"><svg xmlns="http://www.w3.org/2000/svg" width="400" '
          'height="200"{attr}><rect x="10" y="10" width="380" height="180" fill="{fill}"/></svg></figure>')


def page(tmp_path: Path, body: str, style: str = "") -> Path:
    path = tmp_path / "page.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title><style>{style}</style>"
                    f"</head><body><h2>Heading</h2>{body}</body></html>")
    return path


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_catches_console_errors(chromium, tmp_path, case):
    body, expected = BROKEN[case]
    run = render(chromium, page(tmp_path, FIGURE.format(name="ok", attr="", fill="#333") + body),
                 tmp_path / "profile", figure_shots=False)
    problems = console_errors(run)
    assert any(expected in p for p in problems), problems


def test_check_catches_invisible_figures(chromium, tmp_path):
    body = "".join([FIGURE.format(name="ok", attr="", fill="#333"),
                    FIGURE.format(name="zero", attr=' style="width:0;height:0"', fill="#333"),
                    FIGURE.format(name="hidden", attr=' style="visibility:hidden"', fill="#333"),
                    FIGURE.format(name="blank", attr="", fill="none"),
                    FIGURE.format(name="wide", attr=' style="width:2000px"', fill="#333")])
    run = render(chromium, page(tmp_path, body), tmp_path / "profile")
    problems = figure_problems(run, expected=6)
    assert console_errors(run) == []
    assert "5 figures in the page, 6 in the file" in problems  # one <svg> in the file but not in the page
    for name in ("zero", "hidden", "blank", "wide"):
        assert any(f"'{name}'" in p for p in problems), (name, problems)
    assert not any("'ok'" in p for p in problems), problems


def test_check_catches_a_page_that_prints_badly(chromium, tmp_path):
    body = (FIGURE.format(name="f", attr=' style="width:1000px"', fill="#333")
            + "<table><tr><td style='white-space:nowrap'>" + "wide " * 200 + "</td></tr></table>")
    run = render(chromium, page(tmp_path, body, style="figure { overflow-x: auto }"), tmp_path / "profile",
                 figure_shots=False)
    problems = " | ".join(print_problems(run))
    for expected in ("<figure> may split", "<tr> may split", "<h2> may be left alone",
                     "<figure> clips", "is wider than the printed page", "1 tables"):
        assert expected in problems, problems


def test_check_catches_broken_links_and_duplicate_ids(chromium, tmp_path):
    body = ('<a href="#nowhere">gone</a> <a href="#here">ok</a> <a href="javascript:void(0)">js</a> '
            '<a href="https://doi.org/10.1/x"></a> <p id="here">x</p><p id="twice"></p><p id="twice"></p>')
    run = render(chromium, page(tmp_path, body), tmp_path / "profile", figure_shots=False)
    screen = run["screen"]
    assert screen["brokenAnchors"] == ["#nowhere"]
    assert screen["duplicateIds"] == ["twice"]
    assert len(screen["badLinks"]) == 2 and "javascript" in screen["badLinks"][0]
