"""Exercises: generated from the solutions, not stale, no leaks; checks that never crash; a graded answer
cannot call the library it is meant to reimplement; the answers in the masters are right."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from emlab import checks

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import exercises  # noqa: E402

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
TOY = ROOT / "tests" / "grading_fixtures" / "solutions"


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _read(path):
    return nbformat.read(str(path), as_version=4)


# ---------------------------------------------------------------------------------------- layout


def test_at_least_one_exercise_per_lecture_01_to_07():
    lectures = {p.name[:2] for p in SOLUTIONS}
    assert {f"0{i}" for i in range(1, 8)} <= lectures, lectures
    assert len(SOLUTIONS) >= 8


def test_grade_ids_are_unique_across_exercises_and_every_exercise_has_points():
    seen = {}
    for path in SOLUTIONS:
        points = 0
        for cell in _read(path).cells:
            gid = _meta(cell).get("grade_id")
            if gid:
                assert gid not in seen, f"{gid} in {path.name} and {seen[gid]}"
                seen[gid] = path.name
            if _meta(cell).get("grade"):
                points += _meta(cell)["points"]
                if cell.cell_type == "code":
                    assert "### BEGIN HIDDEN TESTS" in cell.source, f"{path.name}:{gid} has no hidden tests"
        assert points > 0, path.name


def test_the_restart_exercise_has_a_manually_graded_written_answer():
    cells = _read(ROOT / "solutions" / "06_restarts.ipynb").cells
    manual = [c for c in cells
              if c.cell_type == "markdown" and _meta(c).get("grade") and _meta(c).get("solution")]
    assert manual and manual[0].metadata.nbgrader["points"] > 0


def test_solutions_and_exercises_are_stored_without_outputs():
    for path in SOLUTIONS + EXERCISES:
        for cell in _read(path).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


# ------------------------------------------------------------------------------ staleness, leaks


def test_exercises_are_up_to_date_and_leak_nothing():
    """Fails when exercises/ was not regenerated after a change to solutions/ (run `make exercises`)."""
    assert exercises.check() == []
    assert [p.stem for p in EXERCISES] == [p.stem for p in SOLUTIONS]


def test_check_detects_a_stale_exercise_and_a_leak(tmp_path):
    src, rel = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(TOY, src)
    exercises.build(rel, src)
    assert exercises.check(src, rel) == []
    # an edited master makes the released copy stale
    nb = _read(src / "toy.ipynb")
    nb.cells[0].source += "\n\nA new sentence."
    nbformat.write(nb, str(src / "toy.ipynb"))
    assert any("stale" in p for p in exercises.check(src, rel))
    # a hand-edited release that leaks a solution region or a hidden test is caught
    exercises.build(rel, src)
    leaked = _read(rel / "toy.ipynb")
    leaked.cells[-1].source = "### BEGIN SOLUTION\nanswer\n### END SOLUTION"
    leaked.cells[-2].source = "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"
    nbformat.write(leaked, str(rel / "toy.ipynb"))
    problems = exercises.check(src, rel)
    assert any("BEGIN SOLUTION" in p for p in problems) and any("HIDDEN TESTS" in p for p in problems)
    # a release without its master is reported too
    shutil.copy(rel / "toy.ipynb", rel / "orphan.ipynb")
    assert any("orphan.ipynb has no solution" in p for p in exercises.check(src, rel))


def test_no_hidden_test_line_or_solution_line_reaches_the_exercises():
    region = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)
    for sol_path, ex_path in zip(SOLUTIONS, EXERCISES, strict=True):
        released = json.dumps(_read(ex_path))
        cells = _read(sol_path).cells
        visible = json.dumps([region.sub("", c.source) for c in cells])   # what the student may see
        for cell in cells:
            for _, body in region.findall(cell.source):
                for line in body.splitlines():
                    line = json.dumps(line.strip())[1:-1]
                    # distinctive lines only (short ones like `return x` may recur), not shown elsewhere
                    if len(line) > 25 and line not in visible:
                        assert line not in released, (ex_path.name, line)


# ------------------------------------------------------------------- running the notebooks' code


def _namespace_run(nb, kinds, grab_tests=False):
    """Execute the setup/solution/check cells of ``nb`` in one namespace (no kernel), recording every
    CheckResult; returns (results, test_outcomes) where test_outcomes maps grade id -> exception or None."""
    from emlab.checks import exercises as per_exercise

    results = []
    original = checks.run_cases

    def recording(*args, **kwargs):
        res = original(*args, **kwargs)
        results.append(res)
        return res

    ns: dict = {}
    outcomes = {}
    checks.run_cases = per_exercise.run_cases = recording
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for cell in nb.cells:
                meta = _meta(cell)
                if cell.cell_type != "code" or not meta:
                    continue
                source = "\n".join(ln for ln in cell.source.splitlines() if not ln.startswith("%"))
                if meta.get("grade"):
                    if grab_tests:
                        try:
                            exec(compile(source, meta["grade_id"], "exec"), ns)
                            outcomes[meta["grade_id"]] = None
                        except Exception as exc:  # noqa: BLE001
                            outcomes[meta["grade_id"]] = exc
                    continue
                kind = "solution" if meta.get("solution") else "locked"
                if kind in kinds:
                    exec(compile(source, meta["grade_id"], "exec"), ns)
    finally:
        checks.run_cases = per_exercise.run_cases = original
    return results, outcomes


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_checks_on_unwritten_functions_say_so_and_never_raise(path):
    results, outcomes = _namespace_run(_read(path), {"solution", "locked"}, grab_tests=True)
    assert all(r.not_written and not r.passed and "not written yet" in r.message for r in results), path.name
    # every graded test fails on the unanswered exercise: it is worth 0
    assert outcomes and all(exc is not None for exc in outcomes.values()), outcomes


@pytest.mark.parametrize("path", [p for p in SOLUTIONS if p.stem != "06_restarts"], ids=lambda p: p.stem)
def test_checks_pass_on_the_solutions(path):
    results, _ = _namespace_run(_read(path), {"solution", "locked"})
    assert results and all(r.passed for r in results), [r.message for r in results if not r.passed]


def test_checks_report_the_failing_case_with_expected_and_got(capsys):
    from emlab.checks import check_forward

    def off_by_one(start, trans, emit, seq):
        alpha = np.zeros((len(seq), len(start)))
        alpha[0] = start * emit[:, seq[0]]
        for t in range(1, len(seq)):
            alpha[t] = (alpha[t - 1] @ trans) * emit[:, seq[t - 1]]   # wrong symbol
        return alpha

    res = check_forward(off_by_one)
    out = capsys.readouterr().out
    assert not res.passed and "ice cream" in out and "expected" in out and "got" in out
    res = check_forward(lambda *a: np.zeros((2, 2)))
    assert "should have shape (3, 2), got shape (2, 2)" in res.message


@pytest.mark.parametrize("behaviour", ["raise", "exit", "none", "string"])
def test_checks_survive_any_student_function(behaviour, capsys):
    def student(*args):
        if behaviour == "raise":
            raise ZeroDivisionError("boom")
        if behaviour == "exit":
            raise SystemExit(3)
        return None if behaviour == "none" else "alpha"

    for check in (checks.check_forward, checks.check_inside, checks.check_solve_lagrangian,
                  checks.check_coins_m_step, checks.check_run_em, checks.check_kmeans_step):
        res = check(student)
        assert not res.passed and res.failures
    assert "case" in capsys.readouterr().out


# ---------------------------------------------------------------- what a graded answer may import


def _grade_03a_with(loglik_source: str, tmp_path):
    """Grade solutions/03a with its log_likelihood answer replaced, through the real sandbox."""
    sys.path.insert(0, str(ROOT / "tools" / "grading"))
    import judge
    import sandbox

    import notebooks

    master = notebooks.load_master(ROOT / "solutions" / "03a_forward.ipynb")
    nb = _read(ROOT / "solutions" / "03a_forward.ipynb")
    for cell in nb.cells:
        if _meta(cell).get("grade_id") == "ex03a_loglik_solution":
            cell.source = loglik_source
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "03a_forward.ipynb"
    nbformat.write(nb, str(path))
    policy = sandbox.Policy(tuple(master.policy["emlab_modules"]), tuple(master.policy["hidden_packages"]))
    view = sandbox.library_view(policy, tmp_path / "view")
    for folder in [view, *view.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    spec = sandbox.SandboxSpec(library=view, hidden=policy.hidden, limits=sandbox.Limits(notebook_seconds=60),
                               uid=2_000_900)
    return {i.grade_id: i for i in judge.grade_notebook(master, path, spec).items}


@pytest.mark.skipif(shutil.which("bwrap") is None,
                    reason="grading needs bubblewrap: apt-get install -y bubblewrap")
def test_an_answer_that_calls_the_library_earns_nothing_and_an_honest_one_scores(tmp_path):
    calling = ("from emlab import hmm\n"
               "def log_likelihood(start, trans, emit, seq):\n"
               "    return hmm.log_likelihood(hmm.HMM(start, trans, emit), [seq])\n")
    items = _grade_03a_with(calling, tmp_path)
    assert items["ex03a_forward_test"].score == 3                      # the honest answer still scores
    assert items["ex03a_loglik_test"].score == 0                       # emlab.hmm is not importable there
    assert "log_likelihood" in items["ex03a_loglik_test"].message
    hmmlearn = ("from hmmlearn import hmm\n"
                "def log_likelihood(start, trans, emit, seq):\n"
                "    return 0.0\n")
    assert _grade_03a_with(hmmlearn, tmp_path / "b")["ex03a_loglik_test"].score == 0


# ------------------------------------------------------------------------------ student dist


def test_student_dist_has_exercises_and_no_solutions_or_hidden_tests(tmp_path):
    import zipfile

    import student_dist

    out = student_dist.build(tmp_path / "student.zip")
    with zipfile.ZipFile(out) as zf:
        names = [n.split("/", 1)[1] for n in zf.namelist()]
        blobs = {n: zf.read(n) for n in zf.namelist()}
    for needed in ("README.md", "environment.yml", "pyproject.toml", "Makefile", "emlab/__init__.py",
                   "emlab/checks/__init__.py"):
        assert needed in names
    assert {f"exercises/{p.name}" for p in EXERCISES} <= set(names)
    assert any(n.startswith("notebooks/") and n.endswith(".ipynb") for n in names)
    assert not [n for n in names if n.startswith(("solutions/", "tests/", "grading/", "tools/"))
                or n == "nbgrader_config.py" or n.endswith((".db", ".pyc"))]
    for name, data in blobs.items():
        for marker in (b"BEGIN SOLUTION", b"BEGIN HIDDEN TESTS", b"BEGIN MARK SCHEME"):
            assert marker not in data, name
    # and the exercises in the zip are the generated ones
    for p in EXERCISES:
        assert blobs[f"{student_dist.PREFIX}/exercises/{p.name}"] == p.read_bytes()
