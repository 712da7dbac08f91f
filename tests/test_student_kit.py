"""The student kit (``make student-dist``), unzipped in a fresh folder, does what its README says.

Its ``make test`` is run exactly as a student types it, with two differences for speed, both through
the kit's Makefile variables: ``EMLAB_VENV`` reuses this repository's ``.venv`` instead of installing a
new one (the kit's own ``emlab`` folder is still the one imported: the Makefile puts it first on
``PYTHONPATH``), and ``LECTURES`` runs lecture 00 only (the repository's nbval runs every lecture).
Every exercise runs, blank, and one with a student's answer in ``work/``.
"""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
sys.path.insert(0, str(ROOT / "tools"))

import student_dist  # noqa: E402

EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kit")
    archive = student_dist.build(tmp / "emlab-student.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp / "unzipped")
    return tmp / "unzipped" / student_dist.PREFIX


def kit_files(kit: Path) -> set[str]:
    return {p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file()}


def test_the_kit_has_the_course_and_nothing_of_the_instructors(kit):
    names = kit_files(kit)
    for needed in ("README.md", "Makefile", "LICENSE", "pyproject.toml", "environment.yml",
                   "emlab/__init__.py", "emlab/checks/__init__.py", "notebooks/00_start_here.ipynb",
                   "scripts/lab_setup.py", "scripts/check_exercises.py"):
        assert needed in names, needed
    assert {f"exercises/{p.name}" for p in EXERCISES} <= names
    forbidden = [n for n in names if n.startswith(("solutions/", "tests/", "tools/", "grading/"))
                 or n in ("INSTRUCTORS.md", "nbgrader_config.py") or "grade" in Path(n).name]
    assert forbidden == []
    for name in names:
        data = (kit / name).read_bytes()
        for marker in (b"BEGIN SOLUTION", b"BEGIN HIDDEN TESTS", b"BEGIN MARK SCHEME"):
            assert marker not in data, name
    for p in EXERCISES:   # the generated exercises, unchanged
        assert (kit / "exercises" / p.name).read_bytes() == p.read_bytes()


def test_the_readme_gives_the_two_commands_and_points_only_to_what_is_there(kit):
    readme = (kit / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make lab", "make test"]
    for absent in ("INSTRUCTORS", "solutions/", "make grade", "make exercises", "nbgrader_config"):
        assert absent not in readme, absent
    for path in re.findall(r"`((?:notebooks|exercises|scripts|work)/[^`\s]*)`", readme):
        if not path.startswith("work/"):
            assert (kit / path).exists(), path
    makefile = (kit / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    assert {"lab", "test", "clean"} <= targets
    for command in re.findall(r"`make ([a-z][\w-]*)", readme):
        assert command in targets, command


def answer_forward(kit: Path) -> None:
    """A student writes the forward algorithm into their copy of exercise 03a and saves it in work/."""
    nb = json.loads((kit / "exercises" / "03a_forward.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
                == "ex03a_forward_solution")
    cell["source"] = (
        "import numpy as np\n\n"
        "def forward(start, trans, emit, seq):\n"
        "    alpha = np.zeros((len(seq), len(start)))\n"
        "    alpha[0] = start * emit[:, seq[0]]\n"
        "    for t in range(1, len(seq)):\n"
        "        alpha[t] = (alpha[t - 1] @ trans) * emit[:, seq[t]]\n"
        "    return alpha\n")
    (kit / "work" / "exercises").mkdir(parents=True, exist_ok=True)
    (kit / "work" / "exercises" / "03a_forward.ipynb").write_text(json.dumps(nb), encoding="utf-8")


@pytest.mark.skipif(not (VENV / "bin" / "python").exists(), reason="needs the repository's .venv")
def test_make_test_in_the_unzipped_kit_runs_the_lectures_and_reports_every_exercise(kit):
    answer_forward(kit)
    before = {n: (kit / n).read_bytes() for n in kit_files(kit) if n.startswith(("notebooks/", "exercises/"))}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(["make", "test", f"EMLAB_VENV={VENV}", "LECTURES=notebooks/00_start_here.ipynb"],
                            cwd=kit, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"\b\d+ passed\b", output) and " failed" not in output.split("exercises:")[0], output
    for p in EXERCISES:
        assert re.search(rf"^{re.escape(p.stem)}: \d+ of \d+ graded cells pass", output, re.M), p.stem
    # the blank exercises say what is missing; the student's answer in work/ is the one checked
    assert "not written yet" in output
    section = output.split("03a_forward:", 1)[1].split("\n03b_", 1)[0]
    assert "work/exercises/03a_forward.ipynb" in section.splitlines()[0]
    assert re.search(r"✔ forward", section), section
    assert "graded ex03a_forward_test: passed" in section
    assert "graded ex03a_loglik_test: not written yet" in section
    assert re.search(rf"exercises: \d+ of \d+ graded cells pass in {len(EXERCISES)} notebooks", output)
    # nothing the course ships was rewritten (work/ holds the only copies a run may touch)
    after = {n: (kit / n).read_bytes() for n in before}
    assert after == before


@pytest.mark.skipif(not (VENV / "bin" / "python").exists(), reason="needs the repository's .venv")
def test_strict_mode_fails_while_an_exercise_is_unfinished(kit):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(VENV / "bin" / "python"), "scripts/check_exercises.py", "--strict",
         "exercises/01_lagrangian_sympy.ipynb"],
        cwd=kit, env=dict(env, PYTHONPATH=str(kit)), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not written yet" in result.stdout
