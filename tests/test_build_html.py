"""A light test of ``make html`` (tools/build_html.py): two tiny notebooks, built into a tmp dir."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "build_html.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("build_html", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_notebook(path: Path, title: str, code: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nSome prose."), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_site_executes_notebooks_and_links_them_in_order(tmp_path):
    tool = load_tool()
    src = tmp_path / "nbs"
    src.mkdir()
    # Written out of order on purpose: the index must follow the file names.
    write_notebook(src / "02_second.ipynb", "Second lecture", "print(6 * 7)")
    write_notebook(src / "01_first.ipynb", "First lecture", "x = 'sentinel-' + 'output'\nprint(x)")
    out = tmp_path / "site"
    tool.build_site(src, out, timeout=60, verbose=False)

    index = (out / "index.html").read_text()
    first, second = index.index('href="01_first.html"'), index.index('href="02_second.html"')
    assert first < second
    assert "First lecture" in index and "Second lecture" in index
    # The pages hold the *executed* outputs, which exist in no source file.
    assert "sentinel-output" in (out / "01_first.html").read_text()
    assert "42" in (out / "02_second.html").read_text()


def test_failing_notebook_is_named(tmp_path):
    tool = load_tool()
    src = tmp_path / "nbs"
    src.mkdir()
    write_notebook(src / "03_broken.ipynb", "Broken", "raise ValueError('boom')")
    with pytest.raises(RuntimeError, match="03_broken.ipynb"):
        tool.build_site(src, tmp_path / "site", timeout=60, verbose=False)
