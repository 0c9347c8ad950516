"""The built book in a real browser: headless Chromium opens the pages from disk, with no network.

For every page of _toc.yml: formulas are typeset by the MathJax copy served with the book (no raw
``$$`` or ``\\[`` left), every image and animation frame loads, no cell shows an error or a
traceback, notebook pages have a Colab button that opens that very notebook, and the navigation
reaches every page. Screenshots of the landing page and of the chapters go to ``_build/screenshots``.

Chromium is Debian's ``chromium`` (``make test`` installs it when it can); the driver is the
``playwright`` Python package, which uses that browser (``playwright install`` is never needed).
Without them the test skips, except in CI (``CI`` set), where it fails.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from test_book import toc_files
from test_colab import colab_url_of

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"

pytestmark = pytest.mark.book

LAUNCH_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (in CI the browser test must run: `make test` installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser_context(built_book):
    if built_book["returncode"] != 0:
        pytest.fail("the book did not build (see test_book_builds_without_warnings)")
    executable = chromium_path()
    if executable is None:
        missing("Chromium is not installed: `apt-get install chromium` (as root), or set CHROMIUM=/path/to/it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed: `pip install -r requirements.txt`")
    with tempfile.TemporaryDirectory(prefix="gantutor-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=LAUNCH_FLAGS, offline=True,
            viewport={"width": 1280, "height": 900})
        external: list[str] = []

        def refuse(route):  # nothing may come from the network: a classroom without one must work
            external.append(route.request.url)
            route.abort()

        context.route(re.compile(r"^(https?|wss?)://"), refuse)
        yield context, external
        context.close()


def page_file(html: Path, entry: str) -> Path:
    return html / f"{entry}.html"


def is_notebook(entry: str) -> bool:
    return (ROOT / f"{entry}.ipynb").exists()


INSPECT = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  for (const img of document.images) { img.loading = 'eager'; }
  const images = await Promise.all([...document.images].map(async img => {
    try { await img.decode(); } catch (e) {}
    return {src: img.currentSrc.slice(0, 120), ok: img.complete && img.naturalWidth > 0};
  }));
  const clone = document.querySelector('main') ? document.querySelector('main').cloneNode(true) : document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, .cell_input, script, style, mjx-container, .highlight').forEach(e => e.remove());
  const scripts = [...document.scripts].map(s => s.src).filter(s => s.includes('mathjax') || s.includes('MathJax'));
  return {
    mathSource: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    mathjaxErrors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    mathjaxScripts: scripts,
    text: clone.textContent,
    images,
    outputFigures: document.querySelectorAll('.cell_output img').length,
    errorOutputs: document.querySelectorAll('.output.error, .output.traceback, .cell_output .traceback').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    navLinks: [...document.querySelectorAll('.bd-sidebar-primary a.reference.internal, nav.bd-docs-nav a')].map(a => a.href),
    next: document.querySelector('a.right-next') ? document.querySelector('a.right-next').href : null,
    title: document.title,
  };
}"""


def figures_in(notebook: Path) -> int:
    """How many image outputs the (executed) notebook that the book was built from holds."""
    if not notebook.exists():
        return 0
    cells = json.loads(notebook.read_text())["cells"]
    return sum(any(key.startswith("image/") for key in output.get("data", {}))
               for cell in cells if cell["cell_type"] == "code" for output in cell.get("outputs", []))


def local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None


def test_every_page_in_the_browser(browser_context, built_book):
    context, external = browser_context
    html = built_book["html"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    problems: list[str] = []
    report: list[str] = []
    notebook_pages = [entry for entry in toc_files() if is_notebook(entry)]
    shot_chapter = next((e for e in notebook_pages if "setup" not in e), notebook_pages[0] if notebook_pages else None)
    seen: dict[str, dict] = {}
    for entry in toc_files():
        path = page_file(html, entry)
        assert path.exists(), f"{entry}: no page {path.name} in the built book"
        console_errors.clear()
        page.goto(path.as_uri(), wait_until="load")
        info = page.evaluate(INSPECT)
        seen[entry] = info
        name = entry
        if info["mathSource"]:
            if not info["mathjaxScripts"] or any(not s.startswith("file:") for s in info["mathjaxScripts"]):
                problems.append(f"{name}: MathJax is not served from the book itself: {info['mathjaxScripts']}")
            if info["typeset"] < info["mathSource"]:
                problems.append(f"{name}: {info['mathSource']} formulas, only {info['typeset']} typeset by MathJax")
        if info["mathjaxErrors"]:
            problems.append(f"{name}: MathJax reported {info['mathjaxErrors']} error(s) in formulas")
        for raw in ("$$", "\\[", "\\begin{"):
            if raw in info["text"]:
                at = info["text"].index(raw)
                problems.append(f"{name}: raw math {raw!r} left in the text: …{info['text'][max(0, at - 60):at + 60]!r}")
        expected_figures = figures_in(built_book["staging"] / f"{entry}.ipynb")
        if info["outputFigures"] < expected_figures:
            problems.append(f"{name}: {expected_figures} figure(s) in the notebook, {info['outputFigures']} on the page")
        broken = [img["src"] for img in info["images"] if not img["ok"]]
        if broken:
            problems.append(f"{name}: {len(broken)} image(s) did not load: {broken[:3]}")
        if info["errorOutputs"] or "Traceback (most recent call last)" in info["text"]:
            problems.append(f"{name}: a cell shows an error or a traceback")
        if console_errors:
            problems.append(f"{name}: JavaScript errors: {console_errors[:3]}")
        colab = [link for link in info["links"] if "colab.research.google.com" in link]
        if is_notebook(entry):
            expected = colab_url_of(f"{entry}.ipynb")
            if expected not in colab:
                problems.append(f"{name}: the Colab button should open {expected}, found {colab or 'none'}")
        report.append(f"{name}: {info['typeset']}/{info['mathSource']} formulas typeset, "
                      f"{info['outputFigures']} figure(s) of {len(info['images'])} image(s), colab={'yes' if colab else 'no'}")
        if entry == toc_files()[0]:
            page.screenshot(path=str(SCREENSHOTS / "landing.png"), full_page=False)
            page.screenshot(path=str(SCREENSHOTS / "landing-full.png"), full_page=True)
        if entry == shot_chapter:
            page.screenshot(path=str(SCREENSHOTS / f"{Path(entry).name}.png"), full_page=True)
    (SCREENSHOTS / "report.txt").write_text("\n".join(report + ["", *problems]) + "\n")
    assert not problems, "\n".join(problems)

    # Navigation: the landing page's sidebar links every page, and "next" walks through all of them in order.
    expected_pages = {page_file(html, entry).resolve() for entry in toc_files()}
    landing = seen[toc_files()[0]]
    in_sidebar = {p for p in map(local_path, landing["navLinks"]) if p is not None}
    assert expected_pages - {page_file(html, toc_files()[0]).resolve()} <= in_sidebar, (
        f"pages missing from the landing page's navigation: "
        f"{sorted(str(p.relative_to(html)) for p in expected_pages - in_sidebar - {page_file(html, toc_files()[0]).resolve()})}")
    walked, url = [], page_file(html, toc_files()[0]).as_uri()
    while url and len(walked) <= len(expected_pages):
        walked.append(local_path(url))
        url = seen.get(next((e for e in toc_files() if page_file(html, e).resolve() == walked[-1]), ""), {}).get("next")
    assert walked == [page_file(html, e).resolve() for e in toc_files()], (
        "the 'next' buttons do not walk through the pages in the order of _toc.yml: "
        f"{[str(p.relative_to(html)) if p else None for p in walked]}")
    page.close()


def test_no_request_left_the_machine(browser_context, built_book):
    """The pages work offline; anything they tried to fetch from the network is listed (and was refused)."""
    context, external = browser_context
    mathjax = [url for url in external if "mathjax" in url.lower()]
    assert not mathjax, f"MathJax was requested from the network: {mathjax}"
