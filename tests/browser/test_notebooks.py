"""Every lecture notebook, run in JupyterLab in headless Chromium, shows what a student should see.

For each notebook in notebooks/: Run > Run All Cells, wait for the kernel to go idle, then check the
rendered page: every code cell executed, no error or warning output, every figure drawn (an <img> that
loaded with a nonzero size, no `<Figure size ...>` text stand-ins), no widget shown as its Python repr
(`IntSlider(value=...)`, the sign of a missing widget manager) and no output wider than the page.
Screenshots of each notebook, scrolled top to bottom, land in screenshots/<notebook>/ (git-ignored);
the start page that `make lab` opens lands in screenshots/start_page.png.
"""

from __future__ import annotations

import jlab
import pytest

NOTEBOOKS = [p.name for p in jlab.notebooks()]


def test_course_has_lecture_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {jlab.NOTEBOOK_DIR}"
    assert "00_start_here.ipynb" in NOTEBOOKS, "the start page notebooks/00_start_here.ipynb is missing"


def test_start_page(lab_server, fresh_page, screenshots):
    """The page `make lab` opens: JupyterLab with notebooks/00_start_here.ipynb, rendered, kernel up."""
    page = fresh_page
    page.set_default_timeout(120_000)
    page.goto(lab_server.url("lab/tree/notebooks/00_start_here.ipynb"), wait_until="domcontentloaded")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for()  # kernel connected
    tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text="00_start_here.ipynb")
    assert tab.count() >= 1, "the start notebook is not the current tab"
    heading = panel.locator(".jp-MarkdownOutput h1").first
    heading.wait_for()
    assert heading.inner_text().strip(), "the start page has no rendered title"
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").first.inner_text()
    # No news/update toasts: the server runs with those checks off.
    assert page.locator(".Toastify__toast").count() == 0, page.locator(".Toastify__toast").first.inner_text()
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / "start_page.png"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_clean_in_browser(course, name):
    session, run = course.run(name)
    assert run.code_cells, f"{name} has no code cells"
    problems = run.problems()
    assert not problems, f"{name} in the browser ({len(problems)} problems):\n" + "\n\n".join(problems)
    # Every image output is a drawn figure of sensible size.
    for cell in run.code_cells:
        for img in cell.images:
            big_enough = img["naturalWidth"] >= 50 and img["naturalHeight"] >= 50
            assert big_enough, f"{cell.where()}: tiny image {img}"
    assert run.screenshots and all(p.stat().st_size > 0 for p in run.screenshots)
