"""Build the course site: ``make html`` -> ``_build/html/index.html``.

The site is a Sphinx book (``myst-nb`` reads the notebooks, ``sphinx-book-theme`` gives the table of
contents, prev/next links, search and a download button per page) that works with no network, at build
time and at view time:

1. every lecture notebook (``notebooks/NN_*.ipynb``) is executed with ``nbclient`` in a staging folder
   (``_build/site-src/``, next to a copy of ``exercises/``, so relative links and paths work as in
   JupyterLab); a notebook that raises stops the build with a message naming it;
2. every widget output becomes its **static snapshot**: the outputs its ``Output`` widgets hold in the
   saved widget state (the figure the widget showed at its initial setting), followed by a note that
   the control works in JupyterLab; no widget JavaScript is needed;
3. every figure gets alt text made of its titles and axis labels (recorded in the kernel while the
   notebook runs);
4. the student versions of the exercises (``exercises/``) are listed unexecuted (their stubs raise);
5. Sphinx renders it all; MathJax comes from the installed ``jupyter_server_mathjax`` package and is
   copied into the site, so formulas render offline.

Usage::

    python tools/build_site.py [--notebooks notebooks] [--exercises exercises] [--out _build/html]
                               [--timeout 600] [--only 00_start_here 01_mle_lagrange]

``--only`` executes just the lectures named (a quick preview); the others appear unexecuted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from check_exercises import execute_notebook  # noqa: E402  (one way to run a notebook, shared)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SNAPSHOT_NOTE = "*Static snapshot of an interactive widget: open the notebook in JupyterLab to move it.*"

#: Runs first in every kernel (then removed from the page): figures carry their titles and axis labels
#: as alt text in the output's metadata (IPython accepts a ``(data, metadata)`` pair from a formatter;
#: ``%matplotlib inline`` registers ``pylabtools.print_figure``, patched here before it runs).
ALT_TEXT_HOOK = '''
import IPython.core.pylabtools as _emlab_pt

def _emlab_alt(fig):
    parts = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        labels = (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
        words = [ax.get_title()] + [f"{a}: {t}" for a, t in labels if t]
        if any(words):
            parts.append(", ".join(w for w in words if w))
    return "Figure: " + ("; ".join(parts) if parts else "a plot without titles")

def _emlab_print_figure(fig, fmt="png", *args, _emlab_original=_emlab_pt.print_figure, **kwargs):
    data = _emlab_original(fig, fmt, *args, **kwargs)
    if fmt == "png" and data is not None:
        return data, {"alt": _emlab_alt(fig)}
    return data

_emlab_pt.print_figure = _emlab_print_figure
'''


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the first ``# `` heading, or ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def execute(path: Path, timeout: int) -> nbformat.NotebookNode:
    """Run ``path`` in its own folder with the ``python3`` kernel; widget state is kept."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(ALT_TEXT_HOOK))
    try:
        execute_notebook(nb, path.parent, timeout, store_widget_state=True)
    except CellExecutionError as exc:
        raise RuntimeError(f"{path.name} failed to execute:\n{exc}") from None
    nb.cells.pop(0)
    return nb


def _widget_outputs(model_id: str, states: dict, seen: set) -> list:
    """The outputs held by the Output widgets inside widget ``model_id``, in display order."""
    if model_id in seen or model_id not in states:
        return []
    seen.add(model_id)
    state = states[model_id].get("state", {})
    found = list(state.get("outputs", [])) if states[model_id].get("model_name") == "OutputModel" else []
    for child in state.get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            found += _widget_outputs(child.removeprefix("IPY_MODEL_"), states, seen)
    return found


def snapshot_widgets(nb: nbformat.NotebookNode) -> int:
    """Replace every widget view by its static snapshot; return how many were replaced."""
    states = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW) if out.get("output_type") == "display_data" else None
            if view is None and out.get("output_type") == "execute_result":
                view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(out)
                continue
            replaced += 1
            for inner in _widget_outputs(view["model_id"], states, set()):
                inner = nbformat.from_dict(inner)
                if inner.get("output_type") == "execute_result":  # no Out[n] inside a snapshot
                    inner = nbformat.v4.new_output("display_data", data=inner.data, metadata=inner.metadata)
                outputs.append(inner)
            outputs.append(nbformat.v4.new_output("display_data", data={"text/markdown": SNAPSHOT_NOTE}))
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return replaced


def apply_alt_text(nb: nbformat.NotebookNode) -> None:
    """Move each figure's alt text (output metadata) to the cell option myst-nb reads."""
    for cell in nb.cells:
        alts = [out.get("metadata", {}).get("image/png", {}).get("alt") for out in cell.get("outputs", [])
                if "image/png" in out.get("data", {})]
        alts = [a for a in alts if a]
        if alts:
            options = cell.metadata.setdefault("mystnb", {}).setdefault("image", {})
            options["alt"] = " | ".join(dict.fromkeys(alts))


CONF_PY = '''# Generated by tools/build_site.py; edit that file, not this one.
import shutil
from pathlib import Path

import jupyter_server_mathjax

project = "emlab"
author = "The emlab authors"
copyright = "The emlab authors, MIT License"
version = release = {version!r}
html_title = "emlab " + release
extensions = ["myst_nb"]
exclude_patterns = ["**/.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"           # executed by tools/build_site.py
nb_ipywidgets_js = {{}}              # widgets are static snapshots: no widget JavaScript, no CDN
nb_render_markdown_format = "myst"  # links and math in Markdown outputs (notebook 00's map)
suppress_warnings = ["mystnb.unknown_mime_type"]
html_theme = "sphinx_book_theme"
html_theme_options = {{
    "use_download_button": True,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_fullscreen_button": False,
}}
html_show_sourcelink = False
html_last_updated_fmt = None

# MathJax 2 from the installed jupyter_server_mathjax package, copied into the site: no CDN.
MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
myst_update_mathjax = False          # myst-parser would configure MathJax 3/4; this is MathJax 2
mathjax2_config = {{
    "tex2jax": {{"inlineMath": [["\\\\(", "\\\\)"]], "displayMath": [["\\\\[", "\\\\]"]],
                "processRefs": False, "processEnvironments": False,
                "ignoreClass": "tex2jax_ignore|mathjax_ignore|document",
                "processClass": "tex2jax_process|mathjax_process|math|output_area"}},
    "HTML-CSS": {{"availableFonts": [], "webFont": "STIX-Web", "imageFont": None}},
    "messageStyle": "none",
}}


def _copy_mathjax(app, exc):
    if exc is None and app.builder.format == "html":
        dest = Path(app.outdir) / "_static" / "mathjax"
        if not (dest / "MathJax.js").exists():
            shutil.copytree(MATHJAX, dest, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.md", "test", "unpacked", "docs"))


def setup(app):
    app.connect("build-finished", _copy_mathjax)
'''

INDEX_MD = """# emlab: Expectation Maximization, derived and measured

A Jupyter course on EM the way NLP courses teach it, version {version}. It starts from the
maximum-likelihood estimate of a categorical distribution, derived with Lagrange multipliers, shows that
every model of the course (a mixture of categoricals, a hidden Markov model, a probabilistic context-free
grammar) is a *product of categoricals*, so the M-step is always "normalize the expected counts", and then
**measures** what the theory claims.

The lecture pages show the notebooks executed, with a static snapshot of each interactive widget. Every
page has a download button for its notebook; to run the course, get the student kit and type `make lab`.
The exercises are listed in their student versions.

```{{toctree}}
:caption: Lectures
:maxdepth: 1

{lectures}
```

```{{toctree}}
:caption: Exercises
:maxdepth: 1

{exercises}
```
"""


def stage(notebooks_dir: Path, exercises_dir: Path, src: Path, timeout: int, only: list[str] | None,
          verbose: bool) -> tuple[list[str], list[str]]:
    """Write the Sphinx source folder ``src``: conf.py, index.md, executed lectures, exercises."""
    import emlab

    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    (src / "exercises").mkdir()
    exercises = sorted(p for p in Path(exercises_dir).glob("*.ipynb"))
    for path in exercises:
        shutil.copy(path, src / "exercises" / path.name)
    lectures = sorted(Path(notebooks_dir).glob("[0-9][0-9]*.ipynb"))
    if not lectures:
        raise RuntimeError(f"no lecture notebooks found in {notebooks_dir}")
    for path in lectures:        # copies first, so that a lecture can read its neighbours
        shutil.copy(path, src / "notebooks" / path.name)
    for path in lectures:
        if only is not None and path.stem not in only:
            continue
        start = time.perf_counter()
        nb = execute(src / "notebooks" / path.name, timeout)
        n_widgets = snapshot_widgets(nb)
        apply_alt_text(nb)
        nbformat.write(nb, src / "notebooks" / path.name)
        if verbose:
            print(f"{time.perf_counter() - start:6.1f} s  {path.name} ({n_widgets} widget snapshots)",
                  flush=True)
    (src / "conf.py").write_text(CONF_PY.format(version=emlab.__version__), encoding="utf-8")
    lecture_docs = [f"notebooks/{p.stem}" for p in lectures]
    exercise_docs = [f"exercises/{p.stem}" for p in exercises]
    (src / "index.md").write_text(INDEX_MD.format(version=emlab.__version__, lectures="\n".join(lecture_docs),
                                                  exercises="\n".join(exercise_docs)), encoding="utf-8")
    return lecture_docs, exercise_docs


def build_site(notebooks_dir: Path = ROOT / "notebooks", exercises_dir: Path = ROOT / "exercises",
               out_dir: Path = ROOT / "_build" / "html", timeout: int = 600, only: list[str] | None = None,
               verbose: bool = True) -> Path:
    """Execute, stage and render the site into ``out_dir``; return the path of its index.html."""
    out_dir = Path(out_dir)
    src = out_dir.parent / "site-src"
    stage(Path(notebooks_dir), Path(exercises_dir), src, timeout, only, verbose)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-d", str(out_dir.parent / "doctrees"),
           str(src), str(out_dir)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sphinx failed:\n{result.stdout}\n{result.stderr}")
    if verbose:
        if result.stderr.strip():
            print(result.stderr.strip(), file=sys.stderr)
        print(f"wrote {out_dir / 'index.html'}")
    return out_dir / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--only", nargs="*", help="execute only these lectures (stems); default all")
    args = parser.parse_args(argv)
    try:
        build_site(args.notebooks, args.exercises, args.out, timeout=args.timeout, only=args.only)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
