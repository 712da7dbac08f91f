"""Lecture 00's claims can fail: its map cell asserts that every exercise is listed under a lecture and
that the lectures are numbered without a gap. Run on the real course it passes; on a copy with an
exercise that belongs to no lecture, or with a lecture missing, it fails."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _map_cell() -> str:
    nb = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return next(s for s in sources if "exercises with no lecture on the map" in s)


def _run_map(course: Path) -> None:
    old = os.getcwd()
    os.chdir(course / "notebooks")
    try:
        exec(compile(_map_cell(), "00 map cell", "exec"), {"__name__": "__main__"})  # noqa: S102
    finally:
        os.chdir(old)


def _copy_course(tmp_path: Path) -> Path:
    for folder in ("notebooks", "exercises"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_the_map_cell_passes_on_the_course(tmp_path):
    _run_map(_copy_course(tmp_path))


def test_an_exercise_without_a_lecture_fails_the_map(tmp_path):
    course = _copy_course(tmp_path)
    shutil.copy(course / "exercises" / "03a_forward.ipynb", course / "exercises" / "42_orphan.ipynb")
    with pytest.raises(AssertionError, match="no lecture"):
        _run_map(course)


def test_a_gap_in_the_lectures_fails_the_map(tmp_path):
    course = _copy_course(tmp_path)
    (course / "notebooks" / "05_convergence.ipynb").unlink()
    for ex in (course / "exercises").glob("05*.ipynb"):
        ex.unlink()
    with pytest.raises(AssertionError):
        _run_map(course)
