"""`make grade`: one batch of hostile submissions, graded for real with nbgrader.

The batch uses the tiny assignment tests/grading_fixtures/solutions/toy.ipynb (two functions worth
2 + 1 points and a 1-point written answer) so it stays fast; each student folder below is one kind of
broken submission, built from the generated student version. Everything is graded in ONE run of
tools/grade.py (short cell timeout for the looping cases), then re-run to check that re-grading
neither duplicates nor loses rows.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "grading_fixtures" / "solutions"
sys.path.insert(0, str(ROOT / "tools"))

import grade  # noqa: E402

import exercises  # noqa: E402

GOOD_NORMALIZE = ("def normalize_rows(counts):\n    counts = np.asarray(counts, dtype=float)\n"
                  "    return counts / counts.sum(axis=1, keepdims=True)\n")
GOOD_TOTAL = "def total(xs):\n    return float(sum(xs))\n"

#: student -> expected (toy_normalize_test, toy_total_test, toy_explain)
EXPECTED = {
    "solution": (2, 1, None),         # the instructor's notebook: full marks, written answer pending
    "unmodified": (0, 0, 0),          # the released exercise as is
    "correct": (2, 1, 0),             # both functions right, answer left blank
    "wrong": (0, 1, 0),               # normalizes by the grand total instead of per row
    "raising": (0, 1, 0),             # normalize_rows raises ValueError
    "looping": (0, 1, 0),             # infinite loop: interrupted after the cell timeout
    "nointerrupt": (0, 1, 0),         # ignores SIGINT then loops: kernel killed and restarted
    "exits": (2, 0, 0),               # total() calls sys.exit
    "osexit": (0, 1, 0),              # normalize_rows kills the kernel with os._exit
    "library": (0, 1, 0),             # calls emlab.categorical.normalize instead of writing it
    "writer": (2, 1, 0),              # correct, but writes files outside its folder
    "deleter": (2, 0, 0),             # deleted the normalize test cell and the total solution cell
    "editor": (0, 1, 0),              # wrong normalize, test cell replaced by `pass`, points set to 100
    "corrupt": (0, 0, 0),             # invalid JSON
    "answered": (2, 1, None),         # correct and wrote an answer: awaiting manual grading
}
ITEMS = ("toy_normalize_test", "toy_total_test", "toy_explain")


def _cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def _make_submissions(folder: Path, release: Path) -> None:
    rel = nbformat.read(str(release / "toy.ipynb"), as_version=4)
    sol = nbformat.read(str(FIXTURE / "toy.ipynb"), as_version=4)

    def write(student, nb=None, raw=None):
        d = folder / student
        d.mkdir(parents=True)
        if raw is not None:
            (d / "toy.ipynb").write_text(raw)
        else:
            nbformat.write(nb, str(d / "toy.ipynb"))

    def answered(normalize=GOOD_NORMALIZE, total=GOOD_TOTAL):
        nb = copy.deepcopy(rel)
        _cell(nb, "toy_normalize_solution").source = normalize
        _cell(nb, "toy_total_solution").source = total
        return nb

    write("solution", sol)
    write("unmodified", rel)
    write("correct", answered())
    write("wrong", answered(normalize="def normalize_rows(counts):\n"
                                      "    return np.asarray(counts, float) / np.sum(counts)\n"))
    write("raising", answered(normalize="def normalize_rows(counts):\n    raise ValueError('nope')\n"))
    write("looping", answered(normalize="def normalize_rows(counts):\n    while True:\n        pass\n"))
    write("nointerrupt", answered(normalize="import signal\ndef normalize_rows(counts):\n"
                                            "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                            "    while True:\n        pass\n"))
    write("exits", answered(total="import sys\ndef total(xs):\n    sys.exit(0)\n"))
    write("osexit", answered(normalize="import os\ndef normalize_rows(counts):\n    os._exit(3)\n"))
    write("library", answered(normalize="import emlab.categorical\nfrom emlab.categorical import normalize\n"
                                        "def normalize_rows(counts):\n    return normalize(counts)\n"))
    write("writer", answered(total=GOOD_TOTAL + "for up in range(5):\n"
                                                "    open('../' * up + 'escape.txt', 'w').write('x')\n"))
    nb = answered()
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                not in ("toy_normalize_test", "toy_total_solution")]
    write("deleter", nb)
    nb = answered(normalize="def normalize_rows(counts):\n    return counts\n")
    _cell(nb, "toy_normalize_test").source = "pass"
    _cell(nb, "toy_normalize_test").metadata.nbgrader["points"] = 100
    write("editor", nb)
    write("corrupt", raw='{"cells": [ this is not json')
    nb = answered()
    _cell(nb, "toy_explain").source = "Each row is its own distribution."
    write("answered", nb)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(subs: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), str(subs), str(out),
                           "--source", str(FIXTURE), "--timeout", "4", "--interrupt-grace", "2"],
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    release = base / "release"
    exercises.build(release, FIXTURE)
    subs, out = base / "submissions", base / "out"
    _make_submissions(subs, release)
    before = _digest(subs)
    proc = _run(subs, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"subs": subs, "out": out, "before": before, "rows": rows, "proc": proc, "base": base}


def test_one_row_per_student_with_the_documented_columns(batch):
    rows = batch["rows"]
    assert [r["student"] for r in rows] == sorted(EXPECTED)
    assert list(rows[0]) == ["student", *ITEMS, "total", "max"]
    assert all(r["max"] == "4" for r in rows)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_submission_gets_its_own_right_score(batch, student):
    row = next(r for r in batch["rows"] if r["student"] == student)
    got = tuple(None if row[i] == "" else float(row[i]) for i in ITEMS)
    assert got == EXPECTED[student], (row, (batch["out"] / "feedback" / student / "summary.txt").read_text())
    assert float(row["total"]) == sum(x or 0 for x in EXPECTED[student])


def test_feedback_for_every_student(batch):
    fb = batch["out"] / "feedback"
    for student in EXPECTED:
        assert (fb / student / "summary.txt").exists()
        if student != "corrupt":
            assert (fb / student / "toy.html").exists(), student
    assert "could not be read" in (fb / "corrupt" / "summary.txt").read_text()
    assert "put back" in (fb / "deleter" / "summary.txt").read_text()
    html = (fb / "library" / "toy.html").read_text()
    assert "switched off while your own implementation is graded" in html


def test_submissions_are_not_modified_and_nothing_escapes_into_out(batch):
    assert _digest(batch["subs"]) == batch["before"]
    assert not list(batch["base"].rglob("escape.txt"))
    assert sorted(p.name for p in batch["out"].iterdir()) == ["feedback", "grades.csv", "manual_grades.csv"]


def test_manual_grades_file_lists_pending_answers_and_is_merged_on_rerun(batch):
    subs, out = batch["subs"], batch["out"]
    with open(out / "manual_grades.csv", newline="") as f:
        manual = list(csv.DictReader(f))
    assert {(r["student"], r["item"]) for r in manual} == {(s, "toy_explain") for s in EXPECTED}
    # the instructor scores one answer, then re-grades a single student into the same OUT
    for r in manual:
        if r["student"] == "answered":
            r["score"] = "1"
    grade.write_csv_atomic(out / "manual_grades.csv", ["student", "item", "max", "score"], manual)
    only = batch["base"] / "late"
    (only / "correct").mkdir(parents=True)
    (only / "correct" / "toy.ipynb").write_bytes((subs / "correct" / "toy.ipynb").read_bytes())
    proc = _run(only, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["student"] for r in rows] == sorted(EXPECTED)      # no duplicate, no lost row
    by = {r["student"]: r for r in rows}
    assert by["correct"]["total"] == "3"
    assert by["wrong"]["total"] == "1"                             # kept from the first run
    assert by["answered"]["toy_explain"] == "1" and by["answered"]["total"] == "4"   # manual score applied
    with open(out / "manual_grades.csv", newline="") as f:
        kept = {(r["student"], r["item"]): r["score"] for r in csv.DictReader(f)}
    assert kept[("answered", "toy_explain")] == "1"                 # the manual score survived


def test_write_outputs_merges_manual_scores_into_totals(tmp_path):
    items = [{"id": "a", "assignment": "x", "max": 2.0, "manual": False},
             {"id": "m", "assignment": "x", "max": 1.0, "manual": True}]
    res = {"s1": {"x": {"grades": {"a": {"score": 2.0}, "m": {"score": None}}}}}
    rows = grade.write_outputs(tmp_path, items, res)
    assert rows == [{"student": "s1", "a": "2", "m": "", "total": "2", "max": "3"}]
    grade.write_csv_atomic(tmp_path / "manual_grades.csv", ["student", "item", "max", "score"],
                           [{"student": "s1", "item": "m", "max": "1", "score": "0.5"}])
    rows = grade.write_outputs(tmp_path, items, res)
    assert rows == [{"student": "s1", "a": "2", "m": "0.5", "total": "2.5", "max": "3"}]


def test_restore_missing_cells_puts_deleted_cells_back_in_place():
    rel = nbformat.read(str(FIXTURE / "toy.ipynb"), as_version=4)
    sub = copy.deepcopy(rel)
    names = [c.metadata.get("nbgrader", {}).get("grade_id") for c in rel.cells]
    sub.cells = [c for c in sub.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                 not in ("toy_setup", "toy_normalize_test")]
    assert grade.restore_missing_cells(sub, rel) == ["toy_setup", "toy_normalize_test"]
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in sub.cells] == names


def test_real_exercises_solutions_get_full_marks_and_unmodified_exercises_get_zero(tmp_path):
    """Two real exercises (SymPy and forward algorithm), graded as shipped and as solved."""
    names = ["01_lagrangian_sympy", "03a_forward"]
    source, subs, out = tmp_path / "source", tmp_path / "subs", tmp_path / "out"
    source.mkdir()
    for who, folder in (("solved", ROOT / "solutions"), ("unmodified", ROOT / "exercises")):
        (subs / who).mkdir(parents=True)
        for n in names:
            (subs / who / f"{n}.ipynb").write_bytes((folder / f"{n}.ipynb").read_bytes())
    for n in names:
        (source / f"{n}.ipynb").write_bytes((ROOT / "solutions" / f"{n}.ipynb").read_bytes())
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "grade.py"), str(subs), str(out),
                           "--source", str(source), "--timeout", "60"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    items = [c for c in rows["solved"] if c not in ("student", "total", "max")]
    assert len(items) == 4 and all(i.startswith(("ex01_", "ex03a_")) for i in items)
    assert rows["solved"]["total"] == rows["solved"]["max"] == "9", rows["solved"]
    assert rows["unmodified"]["total"] == "0" and rows["unmodified"]["max"] == "9", rows["unmodified"]
