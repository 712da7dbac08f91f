"""Grade a folder of student submissions with nbgrader, robustly.

    make grade SUBMISSIONS=<folder> OUT=<folder>
    python tools/grade.py SUBMISSIONS OUT [--source solutions] [--timeout 30] [--keep]

``SUBMISSIONS/<student_id>/<exercise>.ipynb`` (exercise file names as in ``exercises/``). Writes

* ``OUT/grades.csv``: one row per student; columns ``student``, one per graded item (its nbgrader
  grade id, in notebook order), ``total``, ``max``. A manually graded item that has no score yet is
  left empty (see ``OUT/manual_grades.csv``). Re-running replaces the rows of the students graded in
  this run and keeps every other row, so no row is duplicated and no grade is lost.
* ``OUT/manual_grades.csv``: one row per (student, manually graded item); fill in ``score`` and
  re-run: the scores are merged into ``grades.csv`` and never overwritten.
* ``OUT/feedback/<student>/``: nbgrader's HTML feedback per exercise plus ``summary.txt``.

How a bad submission is contained:

* Each student is graded in a separate worker process, in a fresh nbgrader course (a copy of the
  instructor's gradebook) in a temporary folder that holds nothing of any other student; the
  submissions and the gradebook are read into memory before any student code runs. A worker that
  exceeds its time budget is killed and the student gets 0 for what was not graded.
* Notebooks that are not valid JSON / nbformat get 0 for their own items only (reported in feedback).
* Every cell runs under a timeout (``Execute.timeout`` in ``nbgrader_config.py``; ``--timeout``).
  A cell that runs too long is interrupted; if the kernel ignores the interrupt (SIGINT ignored) or
  dies (``os._exit``), the kernel is restarted and grading goes on with the next cell.
* nbgrader's OverwriteCells puts back the instructor's version of every locked / test cell (so an
  edited hidden test is replaced), and ``add_missing_cells`` restores deleted test cells.
* Hidden tests switch off emlab while the student's function runs (:func:`emlab.checks.library_blocked`).
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import exercises  # noqa: E402  (tools/exercises.py: the shared nbgrader staging)

ROOT = exercises.ROOT
RESULT_TAG = "EMLAB-GRADE-RESULT "


# --------------------------------------------------------------------------------------------------
# the execute preprocessor: interrupt, then restart a kernel that ignores the interrupt or dies


def robust_execute_class():
    """nbgrader's ``Execute`` with two repairs (built lazily so importing this file stays cheap):

    * on a cell timeout nbclient interrupts the kernel; if the kernel does not answer within
      ``interrupt_grace`` seconds (SIGINT ignored, stuck in C code), it is restarted, so the next
      cells do not each wait a full timeout behind a kernel that never frees up;
    * a kernel that dies (``os._exit``, a segfault) is restarted and the cell is marked failed,
      instead of nbclient aborting the notebook (which would lose the grades of earlier cells).
    """
    from queue import Empty
    from time import monotonic

    from jupyter_core.utils import ensure_async, run_sync
    from nbclient.exceptions import DeadKernelError
    from nbformat import NotebookNode
    from nbgrader.preprocessors import Execute
    from traitlets import Bool, Float

    class KernelStuck(DeadKernelError):
        """The kernel did not answer after an interrupt: it was killed."""

    class RobustExecute(Execute):
        interrupt_grace = Float(3.0, help="seconds an interrupted kernel has to answer").tag(config=True)
        raise_on_iopub_timeout = Bool(False).tag(config=True)  # a late output must not fail the notebook

        async def _kernel_responds(self) -> bool:
            msg_id = self.kc.kernel_info()
            deadline = monotonic() + self.interrupt_grace
            while (left := deadline - monotonic()) > 0:
                try:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
                except Empty:
                    return False
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
            return False

        async def _restart(self) -> None:
            await ensure_async(self.km.restart_kernel(now=True))
            await ensure_async(self.kc.wait_for_ready(timeout=self.startup_timeout))

        async def _async_handle_timeout(self, timeout, cell=None):
            # nbclient interrupts the kernel and makes up an error reply for the cell ...
            reply = await super()._async_handle_timeout(timeout, cell)
            # ... but a kernel that ignores SIGINT is still busy: kill it (restarted below)
            if not await self._kernel_responds():
                self.log.error("The kernel ignored the interrupt: killing it")
                await ensure_async(self.km.signal_kernel(signal.SIGKILL))
                raise KernelStuck(f"the cell ran longer than {timeout} s and ignored the interrupt")
            return reply

        def preprocess_cell(self, cell, resources, index):
            try:
                return super().preprocess_cell(cell, resources, index)
            except DeadKernelError as exc:
                stuck = isinstance(exc, KernelStuck)
                self.log.error("The kernel %s in cell %d: restarting it",
                               "was stuck" if stuck else "died", index)
                cell.outputs.append(NotebookNode(
                    output_type="error", ename="CellTimeoutError" if stuck else "DeadKernelError",
                    evalue=str(exc),
                    traceback=[f"{'CellTimeoutError' if stuck else 'DeadKernelError'}: {exc}; "
                               "the kernel was restarted, so later cells run without this cell's state"]))
                run_sync(self._restart)()
                return cell, resources

    return RobustExecute


# --------------------------------------------------------------------------------------------------
# reading the instructor's gradebook


def graded_items(course: Path, ids: list[str]) -> list[dict]:
    """Every graded cell, in notebook order: ``{"id", "assignment", "max", "manual"}``."""
    import nbformat
    from nbgrader.api import Gradebook

    items = []
    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gb:
        for aid in ids:
            nb = gb.find_notebook(aid, aid)
            cells = {c.name: c for c in nb.grade_cells}
            manual = {c.name for c in nb.grade_cells if c.cell_type == "markdown"}
            # order of appearance in the source notebook
            source = nbformat.read(str(course / "source" / aid / f"{aid}.ipynb"), as_version=4)
            order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in source.cells]
            for name in [n for n in order if n in cells]:
                items.append({"id": name, "assignment": aid, "max": float(cells[name].max_score),
                              "manual": name in manual})
    return items


# --------------------------------------------------------------------------------------------------
# the worker: one student, in its own process and course folder


def worker_main() -> int:
    """The grading process: reads one JSON job per line on stdin (one student each), prints one
    result line per job. Started once and reused, so nbgrader is imported once per batch; the
    parent kills it and starts a new one if a student overruns its time budget."""
    for line in sys.stdin:
        if line.strip():
            job = json.loads(line)
            if job.get("kind") == "stage":
                course = Path(job["course"])
                ids = exercises.stage_course(course, Path(job["source"]))
                result = {"ids": ids, "items": graded_items(course, ids)}
            else:
                result = grade_job(job)
            print(RESULT_TAG + json.dumps(result), flush=True)
    return 0


def grade_job(job: dict) -> dict:
    """Autograde every exercise of one student in that student's own course folder."""
    import nbformat
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    course = Path(job["course"])
    sid = job["student"]
    config = exercises.staging_config(course)
    config.Execute.timeout = job["timeout"]
    config.RobustExecute.timeout = job["timeout"]
    config.RobustExecute.interrupt_grace = job["interrupt_grace"]
    config.OverwriteCells.add_missing_cells = False  # nbgrader 0.9.6's version can crash; see below
    config.Autograde.autograde_preprocessors = [
        _ROBUST_EXECUTE(), IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    api = exercises.api_for(config)
    db_url = config.CourseDirectory.db_url
    result = {}
    for aid in job["assignments"]:
        path = course / "submitted" / sid / aid / f"{aid}.ipynb"
        entry = {"status": "graded", "message": "", "grades": {}}
        result[aid] = entry
        if not path.exists():
            entry.update(status="missing", message=f"no {aid}.ipynb was submitted")
            continue
        try:
            nb = nbformat.read(str(path), as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # noqa: BLE001  invalid JSON, not a notebook, bad schema...
            path.unlink()
            entry.update(status="unreadable", message=f"{aid}.ipynb could not be read as a notebook "
                                                      f"({type(exc).__name__}: {str(exc)[:200]})")
            continue
        release = nbformat.read(str(course / "release" / aid / f"{aid}.ipynb"), as_version=4)
        restored = restore_missing_cells(nb, release)
        if restored:
            nbformat.write(nb, str(path))
            entry["message"] = "deleted cells were put back before grading: " + ", ".join(restored)
        t0 = time.monotonic()
        res = api.autograde(aid, sid, force=True, create=True)
        entry["autograde_seconds"] = round(time.monotonic() - t0, 1)
        if not res["success"]:
            entry.update(status="failed", message="nbgrader could not grade this notebook:\n"
                                                  + _errors_of(res.get("log", ""))[-2000:])
        fb = api.generate_feedback(aid, sid, force=True)
        if not fb["success"]:
            entry["message"] += "\n(no HTML feedback: " + (fb.get("error") or "")[-300:] + ")"
        entry["seconds"] = round(time.monotonic() - t0, 1)
        try:
            with Gradebook(db_url) as gb:
                sub = gb.find_submission_notebook(aid, aid, sid)
                for g in sub.grades:
                    pending = bool(g.needs_manual_grade and g.manual_score is None
                                   and entry["status"] == "graded")
                    entry["grades"][g.name] = {"score": None if pending else float(g.score),
                                               "needs_manual": pending}
        except MissingEntry:
            pass
    return result


def restore_missing_cells(nb, release) -> list[str]:
    """Put back every nbgrader cell (setup, solution, check, test) of ``release`` that the student
    deleted, after the nearest earlier cell that is still there; return the grade ids put back.

    A deleted test cell is thus graded anyway (OverwriteCells then restores the instructor's source
    with its hidden tests), and a deleted solution cell comes back as the unanswered stub.
    (nbgrader's own ``OverwriteCells.add_missing_cells`` raises KeyError when the cell before the
    deleted one is not a grade/solution cell, so we do it here.)
    """
    def gid(cell):
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")

    def find(cell) -> int | None:
        for k, c in enumerate(nb.cells):
            if (gid(cell) and gid(c) == gid(cell)) or (
                    not gid(cell) and c.cell_type == cell.cell_type and c.source == cell.source):
                return k
        return None

    present = {gid(c) for c in nb.cells if gid(c)}
    restored = []
    for i, cell in enumerate(release.cells):
        name = gid(cell)
        if not name or name in present:
            continue
        position = 0
        for earlier in reversed(release.cells[:i]):
            where = find(earlier)
            if where is not None:
                position = where + 1
                break
        nb.cells.insert(position, copy.deepcopy(cell))
        present.add(name)
        restored.append(name)
    return restored


def _errors_of(log: str) -> str:
    """The [ERROR] part of an nbgrader log (what went wrong, without the INFO chatter)."""
    keep, on = [], False
    for line in log.splitlines():
        if line.startswith("["):
            on = line.startswith("[ERROR]")
        if on:
            keep.append(line)
    return "\n".join(keep) or log


_ROBUST = []


def _ROBUST_EXECUTE():
    if not _ROBUST:
        _ROBUST.append(robust_execute_class())
    return _ROBUST[0]


class Worker:
    """The parent's handle on the grading process (restarted after a kill)."""

    def __init__(self, log: Path):
        self.log = log
        self.proc = None

    def _start(self) -> None:
        import queue
        import threading

        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.logf,
                                     start_new_session=True)
        self.lines = queue.Queue()

        def pump(stream, q):
            for raw in stream:
                q.put(raw.decode(errors="replace"))
            q.put(None)

        threading.Thread(target=pump, args=(self.proc.stdout, self.lines), daemon=True).start()

    def grade(self, job: dict, budget: float) -> tuple[dict | None, str]:
        import queue

        if self.proc is None or self.proc.poll() is not None:
            self._start()
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.stop()
            return None, "the grading process could not be started"
        deadline = time.monotonic() + budget
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self.stop()
                return None, "the grading process died"
            if line.startswith(RESULT_TAG):
                return json.loads(line[len(RESULT_TAG):]), ""
        self.stop()
        return None, f"grading was stopped after {budget:.0f} s"

    def stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.logf.close()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        self.stop()


def grade_student(worker: Worker, sid: str, files: dict[str, bytes], template: dict[str, bytes],
                  ids: list[str], work: Path, timeout: float, budget: float,
                  interrupt_grace: float) -> tuple[dict, Path]:
    """Grade one student in a fresh course under ``work``; return (result, course)."""
    course = Path(tempfile.mkdtemp(prefix="course-", dir=work))
    for rel, data in template.items():
        dest = course / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    for aid, data in files.items():
        dest = course / "submitted" / sid / aid / f"{aid}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    job = {"course": str(course), "student": sid, "assignments": ids, "timeout": timeout,
           "interrupt_grace": interrupt_grace}
    result, why = worker.grade(job, budget)
    if result is None:
        tail = worker.log.read_text(errors="replace")[-1500:] if worker.log.exists() else ""
        result = {aid: {"status": "failed", "message": f"{why}\n{tail}", "grades": {}} for aid in ids}
    return result, course


# --------------------------------------------------------------------------------------------------
# the CSV files


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_csv_atomic(path: Path, header: list[str], rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def write_outputs(out: Path, items: list[dict], results: dict[str, dict]) -> list[dict]:
    """Merge this run's results into ``OUT/grades.csv`` and ``OUT/manual_grades.csv``."""
    manual_path = out / "manual_grades.csv"
    manual = {(r["student"], r["item"]): r for r in read_csv(manual_path)}
    for sid in results:
        for it in items:
            if it["manual"]:
                manual.setdefault((sid, it["id"]), {"student": sid, "item": it["id"],
                                                    "max": _fmt(it["max"]), "score": ""})
    write_csv_atomic(manual_path, ["student", "item", "max", "score"],
                     [manual[k] for k in sorted(manual)])

    header = ["student"] + [it["id"] for it in items] + ["total", "max"]
    maximum = sum(it["max"] for it in items)
    rows = {r["student"]: r for r in read_csv(out / "grades.csv")}
    for sid, res in results.items():
        row = {"student": sid}
        for it in items:
            g = res.get(it["assignment"], {}).get("grades", {}).get(it["id"])
            row[it["id"]] = _fmt(0.0 if g is None else g["score"])   # None: awaiting manual grading
        rows[sid] = row
    for sid, row in rows.items():  # every row, kept ones too: apply manual scores, recompute totals
        for it in items:
            given = manual.get((sid, it["id"]), {}).get("score", "").strip()
            if it["manual"] and given:
                row[it["id"]] = _fmt(min(float(given), it["max"]))
        row["total"] = _fmt(sum(float(row[it["id"]]) for it in items if row.get(it["id"], "").strip()))
        row["max"] = _fmt(maximum)
    ordered = [rows[s] for s in sorted(rows)]
    write_csv_atomic(out / "grades.csv", header, ordered)
    return ordered


def write_feedback(out: Path, sid: str, result: dict, course: Path, items: list[dict]) -> None:
    dest = out / "feedback" / sid
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    lines = [f"Feedback for {sid}", ""]
    for aid, entry in result.items():
        html = course / "feedback" / sid / aid / f"{aid}.html"
        if html.exists():
            shutil.copy(html, dest / f"{aid}.html")
        lines.append(f"{aid}: {entry['status']}")
        if entry.get("message"):
            lines += ["    " + m for m in entry["message"].splitlines()[:20]]
        for it in items:
            if it["assignment"] == aid:
                g = entry.get("grades", {}).get(it["id"])
                score = "0" if g is None else ("awaiting manual grading" if g["score"] is None
                                               else _fmt(g["score"]))
                lines.append(f"    {it['id']}: {score} / {_fmt(it['max'])}")
    (dest / "summary.txt").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------


def read_submissions(folder: Path, ids: list[str]) -> dict[str, dict[str, bytes]]:
    """``{student: {assignment: bytes}}``, read up front so no student's code can alter them."""
    subs = {}
    for d in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        subs[d.name] = {aid: (d / f"{aid}.ipynb").read_bytes() for aid in ids
                        if (d / f"{aid}.ipynb").is_file()}
    return subs


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker_main()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("submissions", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--source", type=Path, default=exercises.SOURCE,
                   help="instructor notebooks (nbgrader source); default solutions/")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per cell (default: nbgrader_config.py)")
    p.add_argument("--interrupt-grace", type=float, default=3.0)
    p.add_argument("--keep", action="store_true", help="keep the temporary nbgrader courses (debugging)")
    a = p.parse_args(argv)
    if not a.submissions.is_dir():
        print(f"SUBMISSIONS folder {a.submissions} does not exist", file=sys.stderr)
        return 2
    timeout = a.timeout or float(exercises.base_config().Execute.timeout)
    a.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="emlab-grade-"))
    t_start = time.monotonic()
    worker = Worker(work / "worker.log")
    try:
        template_dir = work / "template"
        staged, why = worker.grade({"kind": "stage", "course": str(template_dir),
                                    "source": str(a.source.resolve())}, budget=600)
        if staged is None:
            print(f"could not stage the nbgrader course from {a.source}: {why}\n"
                  + (worker.log.read_text(errors="replace")[-3000:]), file=sys.stderr)
            return 1
        ids, items = staged["ids"], staged["items"]
        template = {str(f.relative_to(template_dir)): f.read_bytes()
                    for f in template_dir.rglob("*") if f.is_file() and f.parts[len(template_dir.parts)]
                    in ("source", "release", "gradebook.db")}
        shutil.rmtree(template_dir)
        submissions = read_submissions(a.submissions, ids)
        n_cells = {aid: exercises._code_cells(a.source / f"{aid}.ipynb") for aid in ids}
        budget = 60 + sum((n + 3) * (timeout + a.interrupt_grace + 10) for n in n_cells.values())
        results = {}
        for sid, files in submissions.items():
            t0 = time.monotonic()
            result, course = grade_student(worker, sid, files, template, ids, work, timeout, budget,
                                           a.interrupt_grace)
            results[sid] = result
            write_feedback(a.out, sid, result, course, items)
            if not a.keep:
                shutil.rmtree(course, ignore_errors=True)
            submitted = {aid: e for aid, e in result.items() if e["status"] != "missing"}
            statuses = ", ".join(f"{aid}: {e['status']} in {e.get('seconds', 0):.1f} s"
                                 for aid, e in submitted.items())
            missing = len(result) - len(submitted)
            print(f"{sid}: graded in {time.monotonic() - t0:.1f} s ({statuses or 'nothing submitted'}"
                  f"{f'; {missing} exercise(s) not submitted' if missing else ''})", flush=True)
        rows = write_outputs(a.out, items, results)
    finally:
        worker.close()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{len(results)} student(s) graded in {time.monotonic() - t_start:.1f} s; "
          f"{len(rows)} row(s) in {a.out / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
