"""``make html`` (tools/build_site.py): a Sphinx book of the executed notebooks that works offline.

For speed the site is built from two small lecture notebooks and one exercise written here (a figure, math,
links, a widget, a stub that must not run), not from the course (``make html`` builds that). Checked on
the files: titles, table of contents, prev/next, search, no network URL, alt text, widget snapshots;
and in headless Chromium with every non-file request refused: math typeset, figures loaded, navigation.
"""

import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "build_site.py"
CHROMIUM = Path(os.environ.get("EMLAB_CHROMIUM", "/usr/bin/chromium"))


def load_tool():
    spec = importlib.util.spec_from_file_location("build_site", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_notebook(path: Path, markdown: str, *codes: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), *map(nbformat.v4.new_code_cell, codes)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, path)


FIGURE = """%matplotlib inline
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2], [0, 1, 4])
ax.set(title="sentinel curve", xlabel="iteration", ylabel="log p(x)")
print('sentinel-' + 'output')"""

WIDGET = """import ipywidgets as widgets
import matplotlib.pyplot as plt

def show(n):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(range(n), range(n))
    ax.set_title(f"widget bars n={n}")
    plt.show()

widgets.interactive(show, n=widgets.IntSlider(value=3, min=1, max=9))"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    notebooks, exercises = tmp / "notebooks", tmp / "exercises"
    notebooks.mkdir()
    exercises.mkdir()
    # Written out of order on purpose: the table of contents must follow the file names.
    write_notebook(notebooks / "01_second.ipynb", "# Second lecture\n\nA widget below.", WIDGET,
                   "print(6 * 7)")
    write_notebook(notebooks / "00_first.ipynb",
                   "# First lecture\n\nInline $\\frac{a}{b}$ and display\n\n$$\\sum_k \\theta_k = 1$$\n\n"
                   "**Next:** [the second lecture](01_second.ipynb); "
                   "[the exercise](../exercises/01_stub.ipynb).", FIGURE)
    write_notebook(exercises / "01_stub.ipynb", "# Exercise 01: a stub",
                   "def forward():\n    raise NotImplementedError()\n\nforward()")
    out = tmp / "_build" / "html"
    load_tool().build_site(notebooks, exercises, out, timeout=120, verbose=False)
    return out


def read(site, name):
    return (site / name).read_text(encoding="utf-8")


def test_pages_have_the_notebooks_titles_in_course_order(site):
    index = read(site, "index.html")
    assert "<title>emlab: Expectation Maximization" in index
    first, second = index.index("notebooks/00_first.html"), index.index("notebooks/01_second.html")
    assert first < second
    assert "exercises/01_stub.html" in index
    assert re.search(r"<title>First lecture .*emlab \d", read(site, "notebooks/00_first.html"))
    assert re.search(r"<title>Second lecture .*emlab \d", read(site, "notebooks/01_second.html"))
    assert "<title>Exercise 01: a stub" in read(site, "exercises/01_stub.html")


def test_prev_next_links_search_and_download(site):
    first = read(site, "notebooks/00_first.html")
    assert re.search(r'class="right-next"\s+href="01_second.html"', first)
    assert re.search(r'class="left-prev"\s+href="00_first.html"', read(site, "notebooks/01_second.html"))
    assert (site / "search.html").is_file()
    assert "sentinel" in read(site, "searchindex.js")
    assert 'href="../_sources/notebooks/00_first.ipynb"' in first
    assert (site / "_sources" / "notebooks" / "00_first.ipynb").is_file()


def test_outputs_are_executed_and_exercises_are_not(site):
    assert "sentinel-output" in read(site, "notebooks/00_first.html")   # exists in no source file
    assert "42" in read(site, "notebooks/01_second.html")
    stub = read(site, "exercises/01_stub.html")
    assert "NotImplementedError" in stub and "Traceback" not in stub


def test_links_between_notebooks_become_links_between_pages(site):
    first = read(site, "notebooks/00_first.html")
    assert 'href="01_second.html"' in first and 'href="../exercises/01_stub.html"' in first


def test_figures_have_alt_text_from_their_titles(site):
    images = re.findall(r"<img [^>]*>", read(site, "notebooks/00_first.html"))
    assert len(images) == 1
    assert 'alt="Figure: sentinel curve, x: iteration, y: log p(x)"' in images[0]
    for page in site.rglob("*.html"):
        for img in re.findall(r"<img [^>]*>", page.read_text(encoding="utf-8")):
            alt = re.search(r'alt="([^"]*)"', img)
            assert alt and alt.group(1) and not alt.group(1).endswith(".png"), (page.name, img)


def test_widgets_become_static_snapshots(site):
    page = read(site, "notebooks/01_second.html")
    assert "Static snapshot of an interactive widget" in page
    assert 'alt="Figure: widget bars n=3"' in page        # the figure at the slider's initial value
    assert "widget-view+json" not in page and "IntSlider(" not in page


def test_no_page_loads_anything_from_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img|iframe)[^>]*(?:src|href)="((?:https?:)?//[^"]*)"', text)
        assert not remote, (page.name, remote)
    assert (site / "_static" / "mathjax" / "MathJax.js").is_file()


def test_the_tool_names_a_failing_notebook(tmp_path):
    (tmp_path / "nbs").mkdir()
    (tmp_path / "ex").mkdir()
    write_notebook(tmp_path / "nbs" / "03_broken.ipynb", "# Broken", "raise ValueError('boom')")
    with pytest.raises(RuntimeError, match="03_broken.ipynb"):
        load_tool().build_site(tmp_path / "nbs", tmp_path / "ex", tmp_path / "out", timeout=60, verbose=False)


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
def test_in_a_browser_offline_math_is_typeset_figures_load_and_next_works(site):
    from playwright.sync_api import sync_playwright

    refused = []

    def offline(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", offline)
            page.goto((site / "notebooks" / "00_first.html").as_uri())
            page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                                   "&& document.querySelectorAll('.MathJax, .MathJax_Display').length >= 2",
                                   timeout=30000)
            assert page.title().startswith("First lecture")
            text = page.inner_text("article")
            assert "\\frac" not in text and "$$" not in text and "\\sum" not in text, text
            images = page.eval_on_selector_all(
                "article img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.alt])")
            assert images and all(done and width > 0 for done, width, _ in images), images
            page.click("a.right-next")
            page.wait_for_load_state()
            assert page.title().startswith("Second lecture")
            widths = page.eval_on_selector_all("article img", "imgs => imgs.map(i => i.naturalWidth)")
            assert widths and min(widths) > 0
        finally:
            browser.close()
    assert refused == [], refused

