"""Build the static site of the course: ``make html``.

Executes every notebook of ``notebooks/`` in order (``00_…``, ``01_…``, …) with nbconvert's
``ExecutePreprocessor`` (working directory = the notebook's folder, kernel ``python3``), renders
each to HTML and writes ``index.html`` linking them in order, titled by each notebook's first
heading. The output (``_build/html/`` by default) is git-ignored: instructors publish it,
readers without Jupyter open ``index.html``.

Usage::

    python tools/build_html.py [--notebooks notebooks] [--out _build/html] [--timeout 600]

A notebook that raises stops the build with a message naming it (the site never shows a
half-executed notebook silently).
"""

from __future__ import annotations

import argparse
import html
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

ROOT = Path(__file__).resolve().parent.parent


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the first markdown heading, or ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith("#"):
                return line.lstrip("# ").strip()
    return fallback


def build_notebook(path: Path, out_dir: Path, timeout: int = 600) -> tuple[str, str, float]:
    """Execute ``path`` and write ``out_dir/<stem>.html``; return (file name, title, seconds)."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    executor = ExecutePreprocessor(timeout=timeout, kernel_name="python3")
    try:
        executor.preprocess(nb, {"metadata": {"path": str(path.parent)}})
    except CellExecutionError as exc:
        raise RuntimeError(f"{path.name} failed to execute:\n{exc}") from None
    seconds = time.perf_counter() - start
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    name = path.stem + ".html"
    (out_dir / name).write_text(body, encoding="utf-8")
    return name, notebook_title(nb, path.stem), seconds


def index_page(entries: list[tuple[str, str, float]], title: str = "emlab: Expectation Maximization") -> str:
    """The index: one link per notebook, in order."""
    items = "\n".join(
        f'    <li><a href="{html.escape(name)}">{html.escape(heading)}</a></li>'
        for name, heading, _ in entries
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{html.escape(title)}</title>
  <style>body {{ font-family: sans-serif; max-width: 48em; margin: 2em auto; line-height: 1.5; }}</style>
</head>
<body>
  <h1>{html.escape(title)}</h1>
  <p>The lecture notebooks, executed. Read them in order.</p>
  <ol>
{items}
  </ol>
</body>
</html>
"""


def build_site(notebooks_dir: Path, out_dir: Path, timeout: int = 600, verbose: bool = True) -> list:
    """Execute every ``*.ipynb`` in ``notebooks_dir`` (sorted by name) into ``out_dir``."""
    paths = sorted(p for p in Path(notebooks_dir).glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise RuntimeError(f"no notebooks found in {notebooks_dir}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in paths:
        entry = build_notebook(path, out_dir, timeout=timeout)
        entries.append(entry)
        if verbose:
            print(f"{entry[2]:6.1f} s  {path.name} -> {out_dir / entry[0]}", flush=True)
    (out_dir / "index.html").write_text(index_page(entries), encoding="utf-8")
    if verbose:
        print(f"wrote {out_dir / 'index.html'} ({len(entries)} notebooks, "
              f"{sum(e[2] for e in entries):.1f} s of execution)")
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    try:
        build_site(args.notebooks, args.out, timeout=args.timeout)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
