"""Build the students' zip: ``make student-dist`` -> ``_build/emlab-student.zip``.

Unzipped, the kit is a folder ``emlab-course/`` whose README (``tools/student/README.md``) gives the two
commands: ``make lab`` opens the course in a working copy, ``make test`` runs the lecture notebooks under
nbval and then the student's exercises with their checks (``tools/student/Makefile``). It holds:

* the lecture notebooks, the generated student exercises, the ``emlab`` package, ``pyproject.toml``,
  ``environment.yml``, ``LICENSE``, ``CITATION.cff``;
* ``scripts/lab_setup.py`` and ``scripts/check_exercises.py`` (the same files as in ``tools/``);

and nothing that would give the answers away or that a student cannot use: no ``solutions/``, no tests
(the grading fixtures carry hidden tests), no ``tools/`` (grading), no ``INSTRUCTORS.md``, no nbgrader
configuration or gradebook. ``tests/test_student_kit.py`` unzips it and runs its ``make test``.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "emlab-student.zip"
PREFIX = "emlab-course"

#: Shipped as they are (relative to the repository root), if present.
INCLUDE = ["environment.yml", "pyproject.toml", "LICENSE", "CITATION.cff", "notebooks", "exercises", "emlab"]
#: Shipped under another name: kit path -> repository path.
RENAMED = {
    "README.md": "tools/student/README.md",
    "Makefile": "tools/student/Makefile",
    "scripts/lab_setup.py": "tools/lab_setup.py",
    "scripts/check_exercises.py": "tools/check_exercises.py",
}
#: Never shipped, wherever they appear.
EXCLUDE_PARTS = {"__pycache__", ".ipynb_checkpoints", "solutions", "grading", "tests", ".pytest_cache"}
EXCLUDE_SUFFIXES = {".pyc", ".db", ".sqlite"}
#: Text that marks instructor-only material; a file containing it stops the build.
FORBIDDEN = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "### BEGIN MARK SCHEME")


def files(root: Path = ROOT) -> dict[str, Path]:
    """Kit path -> file, sorted by kit path (so the archive is reproducible)."""
    chosen = {}
    for name in INCLUDE:
        path = root / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for f in candidates:
            rel = f.relative_to(root)
            if f.is_file() and not (set(rel.parts) & EXCLUDE_PARTS) and f.suffix not in EXCLUDE_SUFFIXES \
                    and not any(part.endswith(".egg-info") for part in rel.parts):
                chosen[rel.as_posix()] = f
    for kit_name, repo_name in RENAMED.items():
        chosen[kit_name] = root / repo_name
    return dict(sorted(chosen.items()))


def build(out: Path = OUT, root: Path = ROOT) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for kit_name, f in files(root).items():
            data = f.read_bytes()
            for marker in FORBIDDEN:
                if marker.encode() in data:
                    zf.close()
                    tmp.unlink()
                    raise SystemExit(f"refusing to ship {f.relative_to(root)}: it contains '{marker}'")
            info = zipfile.ZipInfo(f"{PREFIX}/{kit_name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if f.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    tmp.replace(out)
    return out


def main() -> int:
    out = build()
    with zipfile.ZipFile(out) as zf:
        n = len(zf.namelist())
    print(f"wrote {out.relative_to(ROOT)} ({n} files, {out.stat().st_size // 1024} KiB); "
          f"students unzip it and run `make lab` in {PREFIX}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
