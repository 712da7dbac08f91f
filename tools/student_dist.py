"""Build the students' zip: ``make student-dist`` -> ``_build/emlab-student.zip``.

It holds what a student needs to run the course (the lecture notebooks, the generated exercises, the
emlab package, README, environment files, pyproject.toml, Makefile) and nothing that would give the
answers away: no ``solutions/``, no tests (the grading fixtures carry hidden tests), no nbgrader
configuration or gradebook. ``tests/test_exercises.py`` checks the archive.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "emlab-student.zip"
PREFIX = "emlab-course"

#: Files and folders shipped to students (relative to the repository root), if present.
INCLUDE = ["README.md", "environment.yml", "pyproject.toml", "Makefile", "LICENSE", "notebooks", "exercises",
           "emlab"]
#: Never shipped, wherever they appear.
EXCLUDE_PARTS = {"__pycache__", ".ipynb_checkpoints", "solutions", "grading", "tests", ".pytest_cache"}
EXCLUDE_SUFFIXES = {".pyc", ".db", ".sqlite"}
#: Text that marks instructor-only material; a file containing it stops the build.
FORBIDDEN = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "### BEGIN MARK SCHEME")


def files(root: Path = ROOT) -> list[Path]:
    """Every file to ship, sorted (so the archive is reproducible)."""
    chosen = []
    for name in INCLUDE:
        path = root / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for f in candidates:
            rel = f.relative_to(root)
            if f.is_file() and not (set(rel.parts) & EXCLUDE_PARTS) and f.suffix not in EXCLUDE_SUFFIXES \
                    and not f.name.endswith(".egg-info"):
                chosen.append(f)
    return chosen


def build(out: Path = OUT, root: Path = ROOT) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in files(root):
            data = f.read_bytes()
            for marker in FORBIDDEN:
                if marker.encode() in data:
                    tmp.unlink()
                    raise SystemExit(f"refusing to ship {f.relative_to(root)}: it contains '{marker}'")
            name = f"{PREFIX}/{f.relative_to(root).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if f.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    tmp.replace(out)
    return out


def main() -> int:
    out = build()
    with zipfile.ZipFile(out) as zf:
        n = len(zf.namelist())
    print(f"wrote {out.relative_to(ROOT)} ({n} files, {out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
