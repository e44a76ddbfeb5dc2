"""The HTML book (``make book``): jupyter-book 1.x builds it from the shipped chapters with zero warnings, only
the book's own files, MathJax served from the build (no CDN), and widgets shown without their text stand-in.
Then headless Chromium opens every chapter with the network cut: the formulas are typeset by MathJax, the
figures load, no raw ``$$`` is left. Screenshots go to ``test-artifacts/``.

The build runs once per session (about 15 s) into a temporary folder, with the Makefile's own arguments.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jupyter_book")
pytest.importorskip("mathjax")

from tinynn.book import project  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHAPTERS = project.chapters(ROOT)
CHROMIUM = os.environ.get("TINYNN_CHROMIUM", "/usr/bin/chromium")


def _make_book_args():
    """The arguments of ``jupyter-book`` in the Makefile's ``book`` recipe."""
    recipe = re.search(r"^book:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    line = next(l for l in recipe.splitlines() if "jupyter-book build" in l)
    return shlex.split(line.split("jupyter-book", 1)[1])


@pytest.fixture(scope="session")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    exe = Path(sys.executable).parent / "jupyter-book"
    args = _make_book_args()
    assert args[:2] == ["build", "."] and "-W" in args, "make book fails on any warning"
    r = subprocess.run([str(exe), *args, "--path-output", str(out)], cwd=ROOT, capture_output=True, text=True,
                       timeout=900)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-4000:]
    return out / "_build" / "html", log


def test_build_has_no_warnings_and_a_title(html):
    site, log = html
    warnings = [l for l in log.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", l)]
    assert not warnings, warnings
    intro = (site / "chapters" / "intro.html").read_text(encoding="utf-8")
    assert "tinynn" in re.search(r"<title>(.*?)</title>", intro, re.S).group(1)
    assert "My Jupyter Book" not in intro


def test_only_the_books_files(html):
    site, _ = html
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "_static" not in p.parts and p.name not in ("genindex.html", "search.html", "index.html"))
    expected = sorted({f"chapters/{p.stem}.html" for p in CHAPTERS} | {"chapters/intro.html"})
    assert pages == expected
    assert not (site / ".venv").exists() and not (site / "README.html").exists()


def test_no_page_loads_anything_from_the_network(html):
    site, _ = html
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r"<(?:script|link|img|iframe)[^>]*(?:src|href)=\"(?:https?:)?//[^\"]*\"", text)
        remote = [t for t in remote if not t.startswith("<link") or "stylesheet" in t or "preload" in t]
        assert not remote, f"{page.relative_to(site)} loads {remote}"
    entry = site / "_static" / "mathjax" / "tex-mml-chtml.js"
    assert entry.is_file() and (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_widgets_are_not_shown_as_text(html, chapter):
    text = (html[0] / "chapters" / f"{chapter.stem}.html").read_text(encoding="utf-8")
    assert "(children=" not in text, "a widget's text stand-in reached the page"


def _browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("TINYNN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no Chromium at {CHROMIUM} (TINYNN_REQUIRE_BROWSER=1)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api")


def test_chapters_render_math_and_figures_offline(html):
    """Every chapter page in headless Chromium with every non-file request refused."""
    from test_dashboard_browser import CHROMIUM_ARGS  # the same launch options as the dashboard tests

    sync_api = _browser()
    site, _ = html
    ARTIFACTS.mkdir(exist_ok=True)
    blocked = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + ["--proxy-server=127.0.0.1:9"])
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else (blocked.append(route.request.url), route.abort()))
        page = context.new_page()
        for chapter in CHAPTERS:
            page.goto((site / "chapters" / f"{chapter.stem}.html").as_uri())
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                                   " && document.querySelectorAll('mjx-container').length > 0", timeout=60_000)
            page.evaluate("() => MathJax.startup.promise")
            n_math = page.locator("mjx-container").count()
            raw = page.evaluate(r"""() => [...document.querySelectorAll('article p, article li')]
                .map(e => e.innerText).filter(t => t.includes('$$') || /\\(frac|partial|sum)\b/.test(t))""")
            images = page.evaluate("""() => [...document.querySelectorAll('article img')]
                .map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])""")
            errors = page.locator("mjx-merror").count()
            page.screenshot(path=str(ARTIFACTS / f"book_{chapter.stem}.png"))
            if images:  # the first stored figure, as the page shows it
                page.locator("article img").first.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"book_{chapter.stem}_figure.png"))
            assert n_math > 0, f"{chapter.stem}: no typeset formula"
            assert not raw, f"{chapter.stem}: raw LaTeX left in the text: {raw[:3]}"
            assert errors == 0, f"{chapter.stem}: {errors} MathJax errors"
            assert images and all(ok for _, ok in images), f"{chapter.stem}: figures not loaded {images}"
        # a formula, typeset, in a screenshot of its own
        first = CHAPTERS[0]
        page.goto((site / "chapters" / f"{first.stem}.html").as_uri())
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=60_000)
        page.locator("mjx-container").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "book_math_offline.png"))
        browser.close()
    assert not blocked, f"the book tried to reach the network: {blocked[:5]}"
