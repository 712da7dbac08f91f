"""Judging one student notebook in the grader's own process.

The instructor's test cells run *here*, never in the student's kernel: the master's setup cells are
executed in a fresh namespace of the grader, the names the master's solution cells define (the
student's answers) are bound to :class:`Answer` proxies that call the student's function inside the
sandbox and bring back plain data (:mod:`codec`), and then each test cell's visible part and hidden
part run. Reference values therefore exist only in this process, the comparison is made with this
process's numpy, and a score is only ever a master's ``points`` (pass) or 0 (fail): nothing the
student's code writes can change it.

What the student is told about an item is built here from safe parts only: the message of an
instructor's :class:`emlab.checks.grading.CheckFailure`, which the checks word so that it reveals no
hidden reference value; the failing line of the *visible* test (which the student has); the type of
an exception and where in the student's own cells it was raised; a limit that was hit. Never the
hidden test's source, an assertion message from it, or an exception message from the student's code.
"""

from __future__ import annotations

import signal
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import codec
import sandbox

import notebooks


class StudentRaised(Exception):
    """The student's function raised; ``text`` says which and where (safe)."""

    def __init__(self, text: str, not_written: bool = False):
        super().__init__(text)
        self.text, self.not_written = text, not_written


class SandboxStopped(Exception):
    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class JudgeTimeout(Exception):
    pass


@dataclass
class ItemResult:
    grade_id: str
    max: float
    score: float | None  # None: awaiting manual grading
    status: str  # "pass" | "fail" | "manual"
    message: str = ""


@dataclass
class NotebookResult:
    exercise: str
    submitted: bool
    items: list[ItemResult]
    notes: list[str] = field(default_factory=list)
    limits_hit: list[str] = field(default_factory=list)
    manual_answers: dict = field(default_factory=dict)
    manual_flags: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(data: dict) -> NotebookResult:
        items = [ItemResult(**i) for i in data["items"]]
        return NotebookResult(**{**data, "items": items})


def _error(answer) -> dict:
    """The ``error`` of a sandbox answer as ``{"type": str, "where": [(label, line)], "missing": bool}``:
    the answer comes from the sandbox, whose code may have forged it, so nothing else is trusted."""
    err = answer.get("error") if isinstance(answer, dict) else None
    err = err if isinstance(err, dict) else {}
    kind = err.get("type")
    where = err.get("where")
    pairs = [
        (str(p[0])[:40], int(p[1]))
        for p in (where if isinstance(where, list) else [])[-1:]
        if isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str)
        and isinstance(p[1], int) and not isinstance(p[1], bool)
    ]
    return {
        "type": kind[:80] if isinstance(kind, str) and kind else "an error",
        "where": pairs,
        "missing": err.get("missing") is True,
    }


def _where(error: dict, cell: str | None = None) -> str:
    """`` (cell 4, line 2)``: where the error was raised (only the line when that is in ``cell``)."""
    where = error.get("where") or []
    if not where:
        return ""
    label, line = where[-1]
    return f" (line {line})" if label == cell else f" ({label}, line {line})"


class Session:
    """The sandbox of one notebook, restarted (and its cells re-run) after a limit stops it."""

    def __init__(self, spec: sandbox.SandboxSpec, plan: notebooks.Plan, deadline: float):
        self.spec, self.plan, self.deadline = spec, plan, deadline
        self.box: sandbox.Sandbox | None = None
        self.skip: set[str] = set()  # cells that hit a limit: not re-run after a restart
        self.cell_errors: list[str] = []
        self.instructor_errors: list[str] = []
        self.limits_hit: list[str] = []
        self.starts = 0

    def alive(self) -> sandbox.Sandbox:
        if self.box is not None and self.box.proc is not None:
            return self.box
        if time.monotonic() >= self.deadline:
            raise SandboxStopped("notebook")
        self.starts += 1
        first = self.starts == 1
        self.box = sandbox.Sandbox(self.spec, self.deadline)
        self.box.start()
        for label, source, instructor in self.plan.cells:
            if label in self.skip:
                continue
            try:
                answer = self.box.request({"op": "run", "label": label, "source": source})
            except sandbox.LimitHit as hit:
                self._hit(hit.kind)
                self.skip.add(label)
                if first:
                    self.cell_errors.append(
                        f"{label} was stopped by {self.spec.limits.describe(hit.kind)}"
                        "; it was skipped afterwards"
                    )
                if hit.kind == "notebook":
                    raise SandboxStopped("notebook") from None
                self.box = sandbox.Sandbox(self.spec, self.deadline)
                self.box.start()
                continue
            if not answer.get("ok") and first:
                err = _error(answer)
                text = f"{label} raised {err['type']}{_where(err, label)}"
                (self.instructor_errors if instructor else self.cell_errors).append(text)
        return self.box

    def _hit(self, kind: str) -> None:
        text = self.spec.limits.describe(kind)
        if text not in self.limits_hit:
            self.limits_hit.append(text)

    def request(self, message: dict) -> dict:
        box = self.alive()
        try:
            return box.request(message)
        except sandbox.LimitHit as hit:
            self._hit(hit.kind)
            self.box = None
            raise SandboxStopped(hit.kind) from None

    def close(self) -> None:
        if self.box is not None:
            self.box.stop()
            self.box = None


class Answer:
    """Stands for the student's function ``name`` in the grader: calling it runs it in the sandbox."""

    def __init__(self, name: str, session: Session, setup_ns: dict):
        self.__name__ = name
        self._session, self._setup_ns = session, setup_ns

    def _global_name(self, obj):
        for key, value in self._setup_ns.items():
            if value is obj and not key.startswith("_"):
                return key
        return None

    def _why_missing(self) -> str:
        """What may have kept the function from being defined: the cells that raised."""
        errors = self._session.cell_errors
        if not errors:
            return ""
        why = f": {'; '.join(errors)}, which may have stopped before defining it"
        if any("ImportError" in e or "ModuleNotFoundError" in e for e in errors):
            why += " (while grading, only the modules the notebook's header names can be imported)"
        return why

    def __call__(self, *args, **kwargs):
        try:
            payload = {
                "op": "call",
                "name": self.__name__,
                "args": codec.encode(list(args), globals_of=self._global_name),
                "kwargs": codec.encode(dict(kwargs), globals_of=self._global_name),
            }
        except codec.CodecError as exc:
            raise RuntimeError(
                f"the instructor's test passes an argument that cannot be sent: {exc}"
            ) from None
        answer = self._session.request(payload)
        if not answer.get("ok"):
            err = _error(answer)
            if err["missing"]:
                raise StudentRaised(f"`{self.__name__}` is not defined in your notebook{self._why_missing()}")
            kind = err["type"]
            if kind == "NotImplementedError":
                raise StudentRaised(
                    f"`{self.__name__}` is not written yet (it raises NotImplementedError)", not_written=True
                )
            if kind in ("TooLarge", "Unreadable"):
                raise StudentRaised(f"`{self.__name__}` returned something the grader cannot read ({kind})")
            raise StudentRaised(f"`{self.__name__}` raised {kind}{_where(err)}")
        try:
            with _time_limit(
                max(
                    0.01,
                    min(self._session.spec.limits.cell_seconds, self._session.deadline - time.monotonic()),
                )
            ):
                return codec.decode(answer.get("value"))
        except Exception:  # noqa: BLE001 - any failure to rebuild what the sandbox sent (e.g. a SymPy
            # object whose constructor raises) is the answer's, never the grader's
            raise StudentRaised(f"`{self.__name__}` returned something the grader cannot read") from None

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"


@contextmanager
def _time_limit(seconds: float):
    """Bound the grader's own work (a pathological SymPy answer, say); nests inside an outer limit,
    which keeps running and is restored afterwards."""

    def expire(signum, frame):
        raise JudgeTimeout()

    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    start = time.monotonic()
    old = signal.signal(signal.SIGALRM, expire)
    budget = min(seconds, outer_left) if outer_left > 0 else seconds
    signal.setitimer(signal.ITIMER_REAL, max(budget, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer_left > 0:
            signal.setitimer(signal.ITIMER_REAL, max(outer_left - (time.monotonic() - start), 0.001))


def _line(source: str, lineno: int) -> str:
    lines = source.splitlines()
    return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def _failure_message(exc: BaseException, part: str, source: str) -> str:
    """What the student reads about a failed test (see the module docstring)."""
    from emlab.checks.grading import CheckFailure

    if isinstance(exc, StudentRaised):
        return exc.text
    if isinstance(exc, SandboxStopped):
        return ""  # the limit is reported by the caller
    if isinstance(exc, CheckFailure):
        return str(exc)[:600]
    if isinstance(exc, JudgeTimeout):
        return "checking your result took too long (is it a very large expression or array?)"
    if part == "visible":
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<visible test>"]
        line = _line(source, frames[-1].lineno) if frames else ""
        detail = f": {str(exc)[:300]}" if isinstance(exc, AssertionError) and str(exc) else ""
        kind = "failed" if isinstance(exc, AssertionError) else f"raised {type(exc).__name__}"
        return f"the visible test {kind} at `{line[:200]}`{detail}"
    if isinstance(exc, AssertionError):
        return "a hidden test failed (your function gave a different result on one of the hidden cases)"
    return f"a hidden test could not use your result ({type(exc).__name__}: wrong type or shape?)"


def judge_item(
    item: notebooks.Item, setup_ns: dict, answers: dict, session: Session, seconds: float
) -> ItemResult:
    ns = dict(setup_ns)
    ns.update(answers)
    for part, source in (("visible", item.visible), ("hidden", item.hidden)):
        if not source.strip():
            continue
        try:
            code = compile(source, f"<{part} test>", "exec")
            with _time_limit(seconds):
                exec(code, ns)  # noqa: S102 - the instructor's test, in the grader
        except SandboxStopped as stop:
            return ItemResult(
                item.grade_id,
                item.points,
                0.0,
                "fail",
                f"stopped by {session.spec.limits.describe(stop.kind)}",
            )
        except BaseException as exc:  # noqa: BLE001 - any failure of the test fails the item
            if isinstance(exc, KeyboardInterrupt):
                raise
            if isinstance(exc, JudgeTimeout):
                session.close()  # it may have been cut off in the middle of a request
            return ItemResult(item.grade_id, item.points, 0.0, "fail", _failure_message(exc, part, source))
    return ItemResult(item.grade_id, item.points, item.points, "pass", "")


def setup_namespace(master: notebooks.Master) -> dict:
    """The master's locked setup cells, executed in the grader (instructor code)."""
    ns: dict = {"__name__": "__grader__"}
    for cell in master.cells:
        if (
            cell.kind == "code"
            and cell.locked
            and not cell.grade
            and not cell.solution
            and notebooks._is_setup(cell, master)
        ):
            exec(compile(notebooks.without_magics(cell.source), f"<setup {cell.grade_id}>", "exec"), ns)
    return ns


def grader_failed(master: notebooks.Master) -> NotebookResult:
    """The result of a notebook whose grading failed inside the grader (its traceback is in the log):
    every item 0, with a message that sends the student to the instructor, who can re-grade it."""
    why = "the grader failed on this notebook (an internal error, logged for your instructor)"
    return NotebookResult(
        master.name,
        True,
        [ItemResult(i.grade_id, i.points, 0.0, "fail", why) for i in master.items],
        notes=[why],
    )


def grade_notebook(master: notebooks.Master, path: Path | None, spec: sandbox.SandboxSpec) -> NotebookResult:
    """Grade one student's notebook for ``master`` (``path`` None: not submitted)."""
    t0 = time.monotonic()
    limits = spec.limits
    if path is None:
        return NotebookResult(
            master.name,
            False,
            [ItemResult(i.grade_id, i.points, 0.0, "fail", "not submitted") for i in master.items],
        )
    try:
        cells = notebooks.parse_cells(notebooks.read_regular_file(path))
    except notebooks.Unreadable as why:
        return NotebookResult(
            master.name,
            True,
            [
                ItemResult(i.grade_id, i.points, 0.0, "fail", f"the notebook could not be read: {why}")
                for i in master.items
            ],
            notes=[f"{path.name}: {why}"],
        )
    plan = notebooks.plan(master, cells)
    session = Session(spec, plan, t0 + limits.notebook_seconds)
    results: list[ItemResult] = []
    try:
        setup_ns = setup_namespace(master)
        try:
            kinds = session.request({"op": "kinds", "names": sorted(master.answer_names)}).get("kinds", {})
        except SandboxStopped:
            kinds = {}
        kinds = kinds if isinstance(kinds, dict) else {}
        answers: dict = {}
        for name in master.answer_names:
            if kinds.get(name) == "data":
                try:
                    got = session.request({"op": "get", "name": name})
                    with _time_limit(
                        max(0.01, min(limits.cell_seconds, session.deadline - time.monotonic()))
                    ):
                        answers[name] = codec.decode(got["value"]) if got.get("ok") else None
                except Exception:  # noqa: BLE001 - stopped, or data the grader cannot rebuild: no answer
                    answers[name] = None
            else:
                answers[name] = Answer(name, session, setup_ns)
        for item in master.items:
            if item.manual:
                flag = plan.manual_flags.get(item.grade_id, "")
                results.append(
                    ItemResult(
                        item.grade_id,
                        item.points,
                        None,
                        "manual",
                        "graded by hand" + (f" ({flag})" if flag else ""),
                    )
                )
                continue
            left = session.deadline - time.monotonic()
            if left <= 0:
                results.append(
                    ItemResult(
                        item.grade_id,
                        item.points,
                        0.0,
                        "fail",
                        f"not graded: {limits.describe('notebook')} was reached",
                    )
                )
                continue
            results.append(judge_item(item, setup_ns, answers, session, min(left, limits.cell_seconds * 4)))
    finally:
        session.close()
    notes = plan.notes + session.cell_errors
    return NotebookResult(
        master.name,
        True,
        results,
        notes=notes,
        limits_hit=session.limits_hit,
        manual_answers=plan.manual_answers,
        manual_flags=plan.manual_flags,
        seconds=round(time.monotonic() - t0, 3),
    )
