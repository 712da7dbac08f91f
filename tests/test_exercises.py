"""Exercises: generated from the solutions, not stale, no leaks; checks that never crash; the guard
that makes hidden tests grade the student's own code; the answers in the masters are right."""

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
    results = []
    original = checks.run_cases

    def recording(*args, **kwargs):
        res = original(*args, **kwargs)
        results.append(res)
        return res

    ns: dict = {}
    outcomes = {}
    checks.run_cases = recording
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
        checks.run_cases = original
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


# --------------------------------------------------------------------------------- the guard


def test_library_blocked_switches_off_emlab_even_through_earlier_references():
    from emlab import categorical, hmm, pcfg
    from emlab.categorical import normalize

    m = hmm.HMM([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.1, 0.9]])
    before = hmm.log_likelihood(m, [np.array([0, 1, 1])])
    with checks.library_blocked():
        for call in (lambda: normalize([1.0, 3.0]), lambda: categorical.normalize([1.0, 3.0]),
                     lambda: hmm.log_likelihood(m, [np.array([0, 1, 1])]),
                     lambda: hmm.posteriors(m, np.array([0, 1])),
                     lambda: pcfg.PCFG.from_rules([("S", ("a",), 1.0)]),
                     lambda: m.m_step(m.params())):
            with pytest.raises(RuntimeError, match="switched off while your own implementation is graded"):
                call()
        assert np.allclose(np.array([1.0, 3.0]) / 4, [0.25, 0.75])   # numpy itself still works
    # everything is back afterwards, also after an exception inside the block
    with pytest.raises(ZeroDivisionError), checks.library_blocked():
        1 / 0  # noqa: B018
    assert np.allclose(normalize([1.0, 3.0]), [0.25, 0.75])
    assert hmm.log_likelihood(m, [np.array([0, 1, 1])]) == before


def test_an_emlab_module_not_imported_before_the_block_cannot_be_imported_inside_it():
    import importlib

    saved = sys.modules.pop("emlab.gradient", None)
    try:
        with checks.library_blocked(), pytest.raises(ImportError, match="switched off"):
            importlib.import_module("emlab.gradient")
        import json as _json  # other imports still work inside and after the block
        assert importlib.import_module("emlab.gradient") and _json
    finally:
        if saved is not None:
            sys.modules["emlab.gradient"] = saved


def test_library_blocked_also_switches_off_the_check_references_even_after_a_reload():
    import importlib

    from emlab.checks import coins_posterior  # taken before the hidden test reloads the module

    fresh = importlib.reload(checks)
    with fresh.library_blocked():
        for call in (lambda: coins_posterior(0.5, 0.6, [1], [2]),
                     lambda: fresh.brute_force_hmm([1.0], [[1.0]], [[1.0]], [0])):
            with pytest.raises(RuntimeError, match="switched off"):
                call()
    assert coins_posterior(0.5, 0.5, [1], [2]).tolist() == [[0.5, 0.5]]


def test_a_library_calling_answer_earns_nothing_in_the_hidden_test():
    """The 03a hidden test run against an answer that calls emlab instead of computing alpha."""
    nb = _read(ROOT / "solutions" / "03a_forward.ipynb")
    for cell in nb.cells:
        if _meta(cell).get("grade_id") == "ex03a_loglik_solution":
            cell.source = ("from emlab import hmm\n"
                           "def log_likelihood(start, trans, emit, seq):\n"
                           "    return hmm.log_likelihood(hmm.HMM(start, trans, emit), [seq])\n")
    _, outcomes = _namespace_run(nb, {"solution", "locked"}, grab_tests=True)
    assert outcomes["ex03a_forward_test"] is None                      # the honest answer still scores
    assert isinstance(outcomes["ex03a_loglik_test"], RuntimeError)      # the library call is switched off
    assert "switched off" in str(outcomes["ex03a_loglik_test"])


# ------------------------------------------------------------------------------ student dist


def test_student_dist_has_exercises_and_no_solutions_or_hidden_tests(tmp_path):
    import zipfile

    import student_dist

    out = student_dist.build(tmp_path / "student.zip")
    with zipfile.ZipFile(out) as zf:
        names = [n.split("/", 1)[1] for n in zf.namelist()]
        blobs = {n: zf.read(n) for n in zf.namelist()}
    for needed in ("README.md", "environment.yml", "pyproject.toml", "Makefile", "emlab/__init__.py",
                   "emlab/checks.py"):
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
