"""Run your exercises and say which checks pass: the second half of the student kit's ``make test``.

Usage::

    python check_exercises.py [--work work] [--strict] exercises/01_*.ipynb ...

Each exercise is executed from top to bottom in a fresh ``python3`` kernel, in its own folder, and never
saved. Your copy in ``WORK/exercises/`` (the one ``make lab`` opens) is run when it exists; otherwise the
course's blank copy is. A cell that raises does not stop the run. The report lists, per exercise:

* every check's message (the ``checks.check_…`` cells print ✔ or ✘ and what differs), and
* every graded cell (the ``assert`` cells): passed, failed (with the error), or "not written yet"
  while your function still raises ``NotImplementedError``.

The exit status is 1 when the course itself cannot run here (a cell before your first answer raised,
or an import failed: an installation problem, not your code); with ``--strict`` also when a graded
cell fails. Unfinished
exercises therefore do not fail ``make test`` unless you ask for it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient


def execute_notebook(nb: nbformat.NotebookNode, folder: Path, timeout: int, **options) -> None:
    """Run ``nb`` in place in a fresh ``python3`` kernel whose working directory is ``folder``.

    The kernel talks over local IPC sockets in a temporary folder (no TCP port, no "running over TCP
    without encryption" warning) and is always shut down. ``options`` go to ``nbclient.NotebookClient``
    (``allow_errors``, ``store_widget_state``); its ``CellExecutionError`` propagates.
    """
    with tempfile.TemporaryDirectory(prefix="emlab-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=f"{sockets}/kernel")
        client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}}, **options)
        try:
            client.execute()
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)


@dataclass
class Report:
    """What one exercise run showed."""

    name: str
    source: Path
    checks: list[str] = field(default_factory=list)         # the ✔ / ✘ messages
    graded: list[tuple[str, str]] = field(default_factory=list)  # (grade_id, "passed" | reason)
    broken: list[str] = field(default_factory=list)         # the course itself could not run
    other: list[str] = field(default_factory=list)          # other cells that raised (your code's effects)

    @property
    def graded_passed(self) -> int:
        return sum(1 for _, outcome in self.graded if outcome == "passed")


def _error(cell) -> tuple[str, str] | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return out.get("ename", "Error"), out.get("evalue", "")
    return None


def _stdout(cell) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stdout")


def run_exercise(path: Path, timeout: int = 300) -> Report:
    """Execute ``path`` (not saved) and collect its checks and graded cells."""
    nb = nbformat.read(path, as_version=4)
    execute_notebook(nb, path.parent, timeout, allow_errors=True)
    report = Report(path.stem, path)
    seen_solution = False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        seen_solution = seen_solution or bool(meta.get("solution"))
        error = _error(cell)
        messages = [line for line in _stdout(cell).splitlines() if line.startswith(("✔", "✘", "  - "))]
        report.checks += messages
        if meta.get("grade") and not meta.get("solution"):
            if error is None:
                outcome = "passed"
            elif error[0] == "NotImplementedError":
                outcome = "not written yet"
            else:
                outcome = f"{error[0]}: {error[1]}".strip().rstrip(":")
            report.graded.append((meta.get("grade_id", f"cell {i}"), outcome))
        elif error is not None:
            where = f"cell {i} ({meta.get('grade_id', 'code')}): {error[0]}: {error[1]}".strip().rstrip(":")
            # Before the first answer cell, or an import that fails: the installation, not the student.
            if not seen_solution or error[0] in ("ModuleNotFoundError", "ImportError"):
                report.broken.append(where)
            elif error[0] == "NotImplementedError":
                report.other.append(f"cell {i} uses code not written yet")
            else:
                report.other.append(where)
    return report


def choose(exercise: Path, work: Path | None) -> Path:
    """The student's copy in ``work/exercises`` if there is one, else the course's."""
    if work is not None and (work / "exercises" / exercise.name).is_file():
        return work / "exercises" / exercise.name
    return exercise


def format_report(report: Report) -> str:
    lines = [f"{report.name}: {report.graded_passed} of {len(report.graded)} graded cells pass "
             f"({report.source})"]
    lines += [f"    {message}" for message in report.checks]
    lines += [f"    graded {gid}: {outcome}" for gid, outcome in report.graded]
    lines += [f"    {o}" for o in report.other]
    lines += [f"    COURSE PROBLEM {b}" for b in report.broken]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="+", type=Path)
    parser.add_argument("--work", type=Path, default=None, help="the working copy make lab opens")
    parser.add_argument("--strict", action="store_true", help="fail when a graded cell fails")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    reports = []
    for exercise in sorted(args.exercises):
        report = run_exercise(choose(exercise, args.work), timeout=args.timeout)
        print(format_report(report), flush=True)
        reports.append(report)
    passed = sum(r.graded_passed for r in reports)
    total = sum(len(r.graded) for r in reports)
    broken = [r.name for r in reports if r.broken]
    print(f"\nexercises: {passed} of {total} graded cells pass in {len(reports)} notebooks")
    if broken:
        print(f"the course could not run in: {', '.join(broken)} (reinstall: delete .venv, run make lab)")
        return 1
    return 1 if args.strict and passed < total else 0


if __name__ == "__main__":
    sys.exit(main())
