"""Grade a class: every student notebook in a bubblewrap sandbox, judged by the grader.

    make grade SUBMISSIONS=<folder> OUT=<folder> [JOBS=n] [SHARD=i/n] [ASSIGNMENT=<exercise>]
    python tools/grade.py SUBMISSIONS OUT [--jobs N] [--shard I/N] [--assignment EX[,EX]] [limits]
    python tools/grade.py merge OUT SHARD_OUT [SHARD_OUT ...]   # combine the OUTs of shards
    python tools/grade.py report OUT                            # re-read manual_grades.csv, rebuild

``SUBMISSIONS/<student id>/<exercise>.ipynb`` (exercise names as in ``exercises/``). What is written
to OUT is described in ``tools/grading/report.py``; how a notebook is run and judged in
``tools/grading/`` (``sandbox``: what the student's code can reach; ``judge``: the instructor's
tests run in the grader, with the student's functions called in the sandbox; ``notebooks``: which
cells run). Students are graded ``--jobs`` at a time (default: the number of cores), each by its
own worker process; ``--shard I/N`` grades every N-th student starting at the I-th (sorted ids), so
any job runner can grade a large class in pieces that ``merge`` combines.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "grading"))

import judge  # noqa: E402
import report  # noqa: E402
import sandbox  # noqa: E402

import notebooks  # noqa: E402

WORKER = ROOT / "tools" / "grading" / "worker.py"


def exercise_names(source: Path) -> list[str]:
    return sorted(p.stem for p in source.glob("*.ipynb"))


def printable_id(name: str) -> str:
    """A folder name as a student id that every output can hold: a name that is not UTF-8 keeps its
    odd bytes as ``\\xNN`` escapes and a backslash is doubled, so two folders never share an id (the
    byte 0xFF and the four characters ``\\xff``); the folder itself is still read by its real name."""
    return os.fsencode(name).replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


def student_folders(submissions: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """(student id, folder) for every gradable folder, and a line for everything else."""
    students, skipped = [], []
    with os.scandir(submissions) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            shown = repr(entry.name)
            if entry.is_symlink():
                skipped.append(f"{shown}: a symbolic link, not graded")
            elif not entry.is_dir(follow_symlinks=False):
                skipped.append(f"{shown}: not a folder, not graded")
            elif entry.name.startswith("."):
                skipped.append(f"{shown}: a hidden folder, not graded (rename it to grade it)")
            else:
                students.append((printable_id(entry.name), Path(entry.path)))
    return students, skipped


def result_folder(out: Path, sid: str) -> Path:
    return out / "results" / report.student_folder(sid)


def prepare_views(masters: dict[str, notebooks.Master], work: Path) -> tuple[dict, dict, Path | None]:
    """A library view per exercise (what its sandbox may import) and a matplotlib font cache, in a
    folder the sandbox user can read."""
    views, hidden = {}, {}
    base = work / "views"
    for name, master in masters.items():
        policy = sandbox.Policy(
            tuple(master.policy.get("emlab_modules", ())),
            tuple(master.policy.get("hidden_packages", ("hmmlearn", "sklearn"))),
        )
        views[name] = str(sandbox.library_view(policy, base / name))
        hidden[name] = list(policy.hidden)
    mpl = work / "views" / "mpl-cache"
    mpl.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-c", "import matplotlib.font_manager"],
        env={**os.environ, "MPLCONFIGDIR": str(mpl)},
        check=False,
        capture_output=True,
    )
    for folder, _dirs, files in os.walk(base):
        os.chmod(folder, 0o755)
        for f in files:
            os.chmod(os.path.join(folder, f), 0o644)
    return views, hidden, mpl


class Slot:
    """One parallel job: a trusted worker process (restarted when it dies or overruns) and the
    sandbox user its sandboxes run as."""

    def __init__(self, n: int, ctx: dict, uid: int | None):
        self.n, self.ctx, self.proc = n, ctx, None
        self.job = Path(ctx["work"]) / f"slot-{n}.json"
        self.job.write_text(
            json.dumps(
                {
                    "masters": ctx["source"],
                    "exercises": ctx["exercises"],
                    "views": ctx["views"],
                    "hidden": ctx["hidden"],
                    "limits": ctx["limits"],
                    "uid": uid,
                    "mpl_cache": ctx["mpl"],
                }
            )
        )

    def _start(self):
        env = {**os.environ, "EMLAB_REFERENCE_CACHE": self.ctx["refcache"]}
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(self.job)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.ctx["log"],
            text=True,
            env=env,
        )

    def grade(self, folder: Path, dest: Path) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        budget = len(self.ctx["exercises"]) * self.ctx["limits"]["notebook_seconds"] + 120
        done = threading.Event()
        timer = threading.Timer(budget, lambda: done.is_set() or self.proc.kill())
        timer.start()
        try:
            self.proc.stdin.write(json.dumps([str(folder), str(dest)]) + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            answer = ""
        finally:
            done.set()
            timer.cancel()
        if answer.strip() != "done":
            self.stop()

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def grade_one(sid: str, folder: Path, ctx: dict, slots: queue.Queue) -> tuple[str, dict, float]:
    slot = slots.get()
    t0 = time.monotonic()
    try:
        dest = Path(tempfile.mkdtemp(prefix="student-", dir=ctx["work"]))
        slot.grade(folder, dest)
        results = {}
        for ex in ctx["exercises"]:
            path = dest / f"{ex}.json"
            if path.exists():
                results[ex] = json.loads(path.read_text())
            else:
                master = ctx["masters"][ex]
                results[ex] = judge.NotebookResult(
                    ex,
                    True,
                    [
                        judge.ItemResult(
                            i.grade_id,
                            i.points,
                            0.0,
                            "fail",
                            "grading of this notebook was stopped "
                            "(the grader's time limit); ask your instructor",
                        )
                        for i in master.items
                    ],
                ).to_json()
        shutil.rmtree(dest, ignore_errors=True)
        return sid, results, time.monotonic() - t0
    finally:
        slots.put(slot)


def unknown_files(folder: Path, exercises: list[str]) -> list[str]:
    known = {f"{e}.ipynb" for e in exercises}
    try:
        return sorted(repr(n) for n in os.listdir(folder) if n not in known)
    except OSError:
        return []


def grade(args) -> int:
    try:
        sandbox.bwrap_path()
    except sandbox.SandboxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    source = Path(args.source).resolve()
    everything = exercise_names(source)
    wanted = [a for a in (args.assignment or "").split(",") if a]
    unknown = [a for a in wanted if a not in everything]
    if unknown:
        print(
            f"error: unknown exercise(s) {', '.join(unknown)}; choose from {', '.join(everything)}",
            file=sys.stderr,
        )
        return 2
    exercises = wanted or everything
    submissions, out = Path(args.submissions).resolve(), Path(args.out).resolve()
    if not submissions.is_dir():
        print(f"error: SUBMISSIONS {submissions} is not a folder", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    students, skipped = student_folders(submissions)
    index, count = _shard(args.shard)
    students = [s for n, s in enumerate(students) if n % count == index]
    limits = sandbox.Limits(
        memory_mb=args.memory_mb,
        processes=args.processes,
        file_mb=args.file_mb,
        disk_mb=args.disk_mb,
        shm_mb=args.shm_mb,
        output_kb=args.output_kb,
        cell_seconds=args.cell_seconds,
        notebook_seconds=args.notebook_seconds,
    )
    masters = {e: notebooks.load_master(source / f"{e}.ipynb") for e in everything}
    # a SIGTERM (a job runner's cancel) unwinds like Ctrl-C, so the workers, their sandboxes and the
    # private folder are cleaned up below
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if os.geteuid() == 0:
        sandbox.Cgroup.sweep()
    work = Path(tempfile.mkdtemp(prefix="emlab-grade-"))
    log_path = out / "grading.log"
    t_all = time.monotonic()
    try:
        os.chmod(work, 0o711)
        views, hidden, mpl = prepare_views({e: masters[e] for e in exercises}, work)
        with log_path.open("a") as log:
            (work / "refcache").mkdir(mode=0o700)
            ctx = {
                "refcache": str(work / "refcache"),
                "work": str(work),
                "source": str(source),
                "views": views,
                "hidden": hidden,
                "limits": asdict(limits),
                "mpl": str(mpl) if mpl else None,
                "masters": masters,
                "log": log,
            }
            ctx["exercises"] = exercises
            slots: queue.Queue = queue.Queue()
            n_jobs = max(1, args.jobs)
            lease = sandbox.UidLease(n_jobs) if os.geteuid() == 0 else None   # uids no other grader uses
            all_slots = [Slot(n, ctx, lease.uids[n] if lease else None) for n in range(n_jobs)]
            for slot in all_slots:
                slots.put(slot)
            print(
                f"grading {len(students)} student(s) × {len(exercises)} exercise(s), {args.jobs} at a time",
                flush=True,
            )
            pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
            try:
                folders = dict(students)
                futures = [pool.submit(grade_one, sid, folder, ctx, slots) for sid, folder in students]
                for done, fut in enumerate(futures, start=1):
                    sid, results, seconds = fut.result()
                    dest = result_folder(out, sid)
                    dest.mkdir(parents=True, exist_ok=True)
                    (dest / "id.json").write_text(
                        json.dumps({"student": sid, "unknown_files": unknown_files(folders[sid], everything)})
                    )
                    for ex, res in results.items():
                        (dest / f"{ex}.json").write_text(json.dumps(res))
                    missing = sum(not r["submitted"] for r in results.values())
                    print(
                        f"[{done}/{len(students)}] {sid!r}: {len(results)} notebook(s) in {seconds:.1f} s"
                        + (f", {missing} not submitted" if missing else ""),
                        flush=True,
                    )
            finally:  # also on Ctrl-C or SIGTERM: no student is started any more, every worker is ended
                pool.shutdown(wait=False, cancel_futures=True)
                for slot in all_slots:
                    slot.stop()
                pool.shutdown(wait=True)
                if lease is not None:
                    lease.release()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if os.geteuid() == 0:
            sandbox.Cgroup.sweep()
    report.write_all(out, everything, skipped)
    rate = len(students) / max(time.monotonic() - t_all, 1e-9) * 60
    print(
        f"done: {len(students)} student(s) in {time.monotonic() - t_all:.1f} s ({rate:.1f} students/minute); "
        f"wrote {out / 'grades.csv'}",
        flush=True,
    )
    return 0


def _shard(text: str | None) -> tuple[int, int]:
    if not text:
        return 0, 1
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise SystemExit(f"error: SHARD must look like 2/5, got {text!r}") from None
    if not 1 <= i <= n:
        raise SystemExit(f"error: SHARD {text!r}: need 1 <= i <= n")
    return i - 1, n


def merge(out: Path, parts: list[Path], source: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    skipped: list[str] = []
    for part in parts:
        for folder in sorted((part / "results").glob("*")):
            dest = out / "results" / folder.name
            dest.mkdir(parents=True, exist_ok=True)
            for f in folder.glob("*.json"):
                shutil.copy(f, dest / f.name)
        if (part / "skipped.txt").exists():
            skipped += [
                line
                for line in (part / "skipped.txt").read_text().splitlines()
                if line and line != "nothing was skipped" and line not in skipped
            ]
        if (part / "manual_grades.csv").exists() and not (out / "manual_grades.csv").exists():
            shutil.copy(part / "manual_grades.csv", out / "manual_grades.csv")
    report.write_all(out, exercise_names(source), skipped)
    print(f"merged {len(parts)} shard(s) into {out}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["merge"]:
        if len(argv) < 3:
            print("usage: grade.py merge OUT SHARD_OUT [SHARD_OUT ...]", file=sys.stderr)
            return 2
        return merge(Path(argv[1]), [Path(p) for p in argv[2:]], ROOT / "solutions")
    if argv[:1] == ["report"]:
        report.write_all(Path(argv[1]), exercise_names(ROOT / "solutions"), None)
        print(f"rebuilt {argv[1]} from its results and manual_grades.csv")
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("submissions")
    p.add_argument("out")
    p.add_argument("--source", default=str(ROOT / "solutions"))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--shard")
    p.add_argument("--assignment")
    d = sandbox.Limits()
    for name in ("memory_mb", "processes", "file_mb", "disk_mb", "shm_mb", "output_kb"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name))
    for name in ("cell_seconds", "notebook_seconds"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name))
    return grade(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
