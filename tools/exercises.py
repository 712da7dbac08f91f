"""Student exercises are generated from the instructor solutions with nbgrader.

    python tools/exercises.py generate   # rewrite exercises/ from solutions/   (make exercises)
    python tools/exercises.py check      # exit 1 if exercises/ is stale or leaks a solution/hidden test

Each ``solutions/<name>.ipynb`` is one nbgrader assignment (assignment id = ``<name>``). We stage a
standard nbgrader course (``source/<name>/<name>.ipynb``) in a temporary folder, run nbgrader's
``generate_assignment`` (LockCells, ClearSolutions, ClearHiddenTests, ClearMarkScheme, ClearOutput,
ComputeChecksums, ...) and copy ``release/<name>/<name>.ipynb`` to ``exercises/<name>.ipynb``.
``tools/grade.py`` uses the same staging so the gradebook matches the released notebooks exactly.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions"
RELEASE = ROOT / "exercises"
CONFIG_FILE = ROOT / "nbgrader_config.py"

# nbgrader runs the ``alembic`` command of its own environment when it creates a gradebook;
# ``make`` calls .venv/bin/python without activating the venv, so put that bin/ on PATH.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

#: Markers that must never reach a student's copy.
LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                "BEGIN MARK SCHEME", "END MARK SCHEME")


def base_config():
    """The settings of ``nbgrader_config.py`` as a traitlets ``Config``."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()


def staging_config(course: Path, db: Path | None = None):
    """``nbgrader_config.py`` with the folders moved into a staged course at ``course``."""
    config = base_config()
    cd = config.CourseDirectory
    cd.root = str(course)
    cd.source_directory = "source"
    cd.release_directory = "release"
    cd.submitted_directory = "submitted"
    cd.autograded_directory = "autograded"
    cd.feedback_directory = "feedback"
    cd.db_url = "sqlite:///" + str(db or course / "gradebook.db")
    return config


def assignment_ids(source: Path = SOURCE) -> list[str]:
    """One assignment per notebook in ``source``, named after the notebook."""
    return sorted(p.stem for p in Path(source).glob("*.ipynb"))


def api_for(config):
    """An ``NbGraderAPI`` for a staged course, with nbgrader's logging kept quiet."""
    import logging

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    return api


def stage_course(course: Path, source: Path = SOURCE, db: Path | None = None) -> list[str]:
    """Copy ``source/*.ipynb`` into ``course/source/<id>/`` and run ``generate_assignment`` for
    each, which fills the gradebook and writes ``course/release/<id>/<id>.ipynb``."""
    ids = assignment_ids(source)
    if not ids:
        raise SystemExit(f"no notebooks in {source}")
    for aid in ids:
        dest = course / "source" / aid
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(source) / f"{aid}.ipynb", dest / f"{aid}.ipynb")
    api = api_for(staging_config(course, db))
    for aid in ids:
        result = api.generate_assignment(aid, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment failed for {aid}:\n{result['log']}\n"
                               f"{result.get('error', '')}")
    return ids


def _code_cells(path: Path) -> int:
    import nbformat

    return sum(c.cell_type == "code" for c in nbformat.read(str(path), as_version=4).cells)


def _normalized(path: Path) -> str:
    """A notebook's JSON in one canonical form (what generate writes), for comparisons."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False)


def build(out: Path, source: Path = SOURCE) -> list[str]:
    """Generate the student notebooks of ``source`` into ``out`` (created or emptied of notebooks)."""
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="emlab-release-") as tmp:
        ids = stage_course(Path(tmp), source)
        for old in out.glob("*.ipynb"):
            if old.stem not in ids:
                old.unlink()
        for aid in ids:
            nb = nbformat.read(str(Path(tmp) / "release" / aid / f"{aid}.ipynb"), as_version=4)
            nbformat.write(nb, str(out / f"{aid}.ipynb"))
    return ids


def leaks(release: Path = RELEASE) -> list[str]:
    """Problems that would hand students the answers: a solution/hidden-test marker, a stored
    output, or a notebook with no generated nbgrader metadata."""
    import nbformat

    problems = []
    for path in sorted(Path(release).glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for i, cell in enumerate(nb.cells):
            for marker in LEAK_MARKERS:
                if marker in cell.source:
                    problems.append(f"{path.name} cell {i}: contains '{marker}'")
            if cell.cell_type == "code" and cell.get("outputs"):
                problems.append(f"{path.name} cell {i}: has stored outputs")
    return problems


def check(source: Path = SOURCE, release: Path = RELEASE) -> list[str]:
    """Everything wrong with ``release`` relative to ``source``: missing, extra or stale
    notebooks (different from what ``generate`` writes now) and leaks."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="emlab-check-") as tmp:
        fresh = Path(tmp) / "exercises"
        ids = build(fresh, source)
        have = {p.stem for p in Path(release).glob("*.ipynb")}
        for aid in ids:
            if aid not in have:
                problems.append(f"{aid}.ipynb is missing from {release.name}/ (run `make exercises`)")
            elif _normalized(fresh / f"{aid}.ipynb") != _normalized(Path(release) / f"{aid}.ipynb"):
                problems.append(f"{release.name}/{aid}.ipynb is stale: it differs from what "
                                f"solutions/{aid}.ipynb generates (run `make exercises`)")
        for extra in sorted(have - set(ids)):
            problems.append(f"{release.name}/{extra}.ipynb has no solution in {source.name}/")
    return problems + leaks(release)


def main(argv: list[str]) -> int:
    if argv[:1] == ["generate"]:
        ids = build(RELEASE, SOURCE)
        print(f"wrote {len(ids)} exercises to {RELEASE.relative_to(ROOT)}/: {', '.join(ids)}")
        return 0
    if argv[:1] == ["check"]:
        problems = check()
        for p in problems:
            print(p)
        print("exercises/ is up to date" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
