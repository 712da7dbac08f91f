"""Grade one student: every exercise notebook in its own sandbox, judged in this (trusted) process.

    python worker.py JOB.json

``JOB.json`` (written by the orchestrator, in its private folder) names the student's folder, the
masters, the exercises to grade, the library view of each exercise, the limits, the sandbox user
and where to write one ``<exercise>.json`` result per notebook (written as each finishes, so a
worker stopped by its own time limit keeps what it graded). This process runs no student code.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import judge  # noqa: E402
import notebooks  # noqa: E402
import sandbox  # noqa: E402


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    limits = sandbox.Limits(**job["limits"])
    out = Path(job["out"])
    student = Path(job["student_dir"])
    for exercise in job["exercises"]:
        master = notebooks.load_master(Path(job["masters"]) / f"{exercise}.ipynb")
        spec = sandbox.SandboxSpec(library=Path(job["views"][exercise]), hidden=tuple(job["hidden"][exercise]),
                                   limits=limits, uid=job.get("uid"),
                                   mpl_cache=Path(job["mpl_cache"]) if job.get("mpl_cache") else None)
        path = student / f"{exercise}.ipynb"
        present = os.path.lexists(path)
        result = judge.grade_notebook(master, path if present else None, spec)
        tmp = out / f".{exercise}.json.part"
        tmp.write_text(json.dumps(result.to_json()))
        tmp.replace(out / f"{exercise}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
