"""The repository stays clean: notebooks are stored without outputs and with the ``python3`` kernel,
links between notebooks open files that exist, and what ``make lab`` writes is git-ignored.

``make strip`` (nbstripout) fixes the first kind of failure; the message names the file and the cell.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBSTRIPOUT = ROOT / ".venv" / "bin" / "nbstripout"
# a Markdown link to a notebook: [text](target.ipynb) or [text](../folder/target.ipynb#anchor)
NOTEBOOK_LINK = re.compile(r"\]\(([^)\s]+\.ipynb)(#[^)]*)?\)")


def tracked_notebooks() -> list[Path]:
    """Every notebook git tracks (every notebook of the course folders outside a git checkout)."""
    if shutil.which("git") and (ROOT / ".git").exists():
        names = subprocess.run(["git", "ls-files", "-z", "*.ipynb"], cwd=ROOT, capture_output=True,
                               check=True).stdout.decode().split("\0")
        return [ROOT / n for n in names if n]
    folders = ("notebooks", "exercises", "solutions")
    return sorted(p for folder in folders for p in (ROOT / folder).glob("*.ipynb"))


def stored_problems(path: Path) -> list[str]:
    """What is stored in a notebook that should not be: outputs, execution counts, a foreign kernel."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    problems = []
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{rel}: kernelspec name is {kernel!r}, not 'python3'")
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{rel} cell {i}: stores {len(cell['outputs'])} output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"{rel} cell {i}: stores execution_count {cell['execution_count']}")
        if "execution" in cell.get("metadata", {}):
            problems.append(f"{rel} cell {i}: stores execution timing metadata")
    return problems


def broken_links(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    broken = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for target, _ in NOTEBOOK_LINK.findall("".join(cell["source"])):
            if "://" not in target and not (path.parent / target).is_file():
                broken.append(f"{path.name} cell {i}: link to {target}, which does not exist")
    return broken


def test_there_are_notebooks_to_check():
    names = {str(p.relative_to(ROOT)) for p in tracked_notebooks()}
    assert "notebooks/00_start_here.ipynb" in names
    assert any(n.startswith("exercises/") for n in names) and any(n.startswith("solutions/") for n in names)


def test_no_tracked_notebook_stores_outputs_or_another_kernel():
    problems = [p for path in tracked_notebooks() for p in stored_problems(path)]
    assert not problems, "run `make strip`:\n" + "\n".join(problems)


def test_nbstripout_would_change_no_tracked_notebook():
    if not NBSTRIPOUT.exists():
        pytest.skip("nbstripout is installed by `make .venv/.installed`")
    result = subprocess.run([str(NBSTRIPOUT), "--keep-id", "--verify", *map(str, tracked_notebooks())],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "run `make strip`:\n" + result.stdout + result.stderr


def test_both_checks_catch_an_executed_notebook(tmp_path):
    nb = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))
    code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    nb["cells"][code]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["42\n"]}]
    nb["cells"][code]["execution_count"] = 3
    nb["metadata"]["kernelspec"]["name"] = "emlab-venv"
    dirty = tmp_path / "dirty.ipynb"
    dirty.write_text(json.dumps(nb), encoding="utf-8")
    problems = stored_problems(dirty)
    assert any("kernelspec name is 'emlab-venv'" in p for p in problems)
    assert any(f"cell {code}: stores 1 output" in p for p in problems)
    assert any(f"cell {code}: stores execution_count 3" in p for p in problems)
    if NBSTRIPOUT.exists():
        result = subprocess.run([str(NBSTRIPOUT), "--keep-id", "--verify", str(dirty)], capture_output=True)
        assert result.returncode != 0


def test_links_between_notebooks_open_files_that_exist():
    broken = [b for path in tracked_notebooks() for b in broken_links(path)]
    assert not broken, "\n".join(broken)


def test_link_check_catches_a_missing_notebook(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {},
                     "source": "Next: [09](09_missing.ipynb), [01](01_here.ipynb)"}]}
    (tmp_path / "01_here.ipynb").write_text("{}", encoding="utf-8")
    probe = tmp_path / "00_probe.ipynb"
    probe.write_text(json.dumps(nb), encoding="utf-8")
    broken = broken_links(probe)
    assert len(broken) == 1 and "09_missing.ipynb" in broken[0]


def test_what_make_lab_and_make_html_write_is_ignored():
    if not (shutil.which("git") and (ROOT / ".git").exists()):
        pytest.skip("needs a git checkout")
    for path in ("work/notebooks/00_start_here.ipynb", "_build/html/index.html",
                 "notebooks/.ipynb_checkpoints/00_start_here-checkpoint.ipynb"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
