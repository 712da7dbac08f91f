"""Grade one student: every exercise notebook in its own sandbox, judged in this (trusted) process.

    python worker.py JOB.json     # then one JSON [student folder, result folder] per line on stdin

``JOB.json`` (written by the orchestrator, in its private folder) names the masters, the exercises
to grade, the library view of each exercise, the limits and the sandbox user. For each student the
worker writes one ``<exercise>.json`` result per notebook into the result folder (as each finishes,
so a worker stopped by the orchestrator's time limit keeps what it graded). This process runs no
student code: that happens only inside the sandboxes it starts.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import judge  # noqa: E402
import sandbox  # noqa: E402

import notebooks  # noqa: E402


def grade_student(job: dict, student_dir: str, out: str) -> None:
    limits = sandbox.Limits(**job["limits"])
    student = Path(student_dir)
    for exercise in job["exercises"]:
        master = MASTERS.get(exercise) or MASTERS.setdefault(
            exercise, notebooks.load_master(Path(job["masters"]) / f"{exercise}.ipynb")
        )
        spec = sandbox.SandboxSpec(
            library=Path(job["views"][exercise]),
            hidden=tuple(job["hidden"][exercise]),
            limits=limits,
            uid=job.get("uid"),
            mpl_cache=Path(job["mpl_cache"]) if job.get("mpl_cache") else None,
        )
        path = student / f"{exercise}.ipynb"
        try:
            result = judge.grade_notebook(master, path if os.path.lexists(path) else None, spec)
        except Exception:  # noqa: BLE001 - one notebook that breaks the grader costs only that notebook
            print(f"grading {student_dir}/{exercise}.ipynb failed:\n{traceback.format_exc()}", file=sys.stderr)
            result = judge.grader_failed(master)
        tmp = Path(out) / f".{exercise}.json.part"
        tmp.write_text(json.dumps(result.to_json()))
        tmp.replace(Path(out) / f"{exercise}.json")


MASTERS: dict = {}


def main(job_path: str) -> int:
    """Serve students one per line of stdin (a JSON pair ``[student folder, result folder]``), answering
    ``done`` on stdout after each, so one worker's imports and caches serve many students."""
    job = json.loads(Path(job_path).read_text())
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the instructor's tests print goes to the log, not into the channel
    sys.stdout = sys.stderr
    for line in sys.stdin:
        student_dir, out = json.loads(line)
        grade_student(job, student_dir, out)
        channel.write("done\n")
        channel.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
