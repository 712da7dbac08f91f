"""Reading notebooks safely and deciding what of a student's notebook runs.

A master (``solutions/<exercise>.ipynb``, nbgrader's authoring format) says which cells are the
instructor's setup (locked code), the student's answers (``solution``), the visible checks (locked,
not graded) and the graded items (``grade``: a code cell whose source is the test, visible part
then ``### BEGIN HIDDEN TESTS`` part; or a markdown cell graded by hand), with their points.

A student's notebook is read as untrusted bytes: only a regular file (``O_NOFOLLOW``, no FIFO or
device), at most :data:`MAX_BYTES`, parsed as JSON into plain cells; nothing of its content ever
appears in a message about it. Outputs are never read (a notebook saved with many figures is
graded like the same notebook cleared), so the file may be large; what is graded, the cells'
sources, is limited to :data:`MAX_SOURCE_CHARS` characters. Notebooks in the old format 3 (cells
under ``worksheets``, code in ``input``) are read too. Its cells are matched to the master's by nbgrader grade id, then by
cell id, then by content, and the sandbox runs, in the student's order:

* the master's version of every locked setup cell (a missing one first, an edited one restored);
* every other code cell of the student: answers, helper cells, duplicated answer cells (the last
  definition wins, as in Python, and a note says so);

and never a check or test cell, nor an unchanged demo cell of the master. No stub is ever put back.
"""

from __future__ import annotations

import ast
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 128 * 2**20  # the whole file, outputs included (embedded figures are large)
MAX_SOURCE_CHARS = 16_000_000  # the cells' sources, all that is graded
MAX_CELLS = 2000
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ANSWER_PLACEHOLDER = "YOUR ANSWER HERE"


class Unreadable(Exception):
    """A submission that cannot be graded; the message is safe to show (it quotes no content)."""


@dataclass
class Cell:
    kind: str  # "code" | "markdown" | "raw"
    source: str
    grade_id: str | None = None
    cell_id: str | None = None
    locked: bool = False
    solution: bool = False
    grade: bool = False
    points: float = 0.0


@dataclass
class Item:
    """One graded item of an exercise."""

    grade_id: str
    points: float
    manual: bool
    visible: str = ""  # test code before the hidden marker
    hidden: str = ""  # test code between the markers


@dataclass
class Master:
    name: str
    cells: list[Cell]
    items: list[Item]
    answer_names: set[str]  # names the master's solution cells define: the student's answers
    policy: dict

    @property
    def max_points(self) -> float:
        return sum(i.points for i in self.items)


@dataclass
class Plan:
    """What the sandbox runs for one student notebook, and what the student should be told."""

    cells: list[tuple[str, str, bool]]  # (label, source, is_instructor_code)
    notes: list[str] = field(default_factory=list)
    manual_answers: dict[str, str] = field(default_factory=dict)  # grade id -> text
    manual_flags: dict[str, str] = field(default_factory=dict)  # grade id -> remark for the grader


def read_regular_file(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file no larger than ``max_bytes``; a symlink, a
    FIFO, a device or a folder raises :class:`Unreadable` without being followed or opened for
    long."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        raise Unreadable("it is not a regular file (a link, a folder or unreadable)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("it is not a regular file")
        if info.st_size > max_bytes:
            raise Unreadable(f"it is larger than {max_bytes // 2**20} MB")
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise Unreadable(f"it is larger than {max_bytes // 2**20} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_cells(data: bytes) -> list[Cell]:
    """Plain cells of a notebook's JSON; :class:`Unreadable` (with a content-free message) if it is
    not a notebook."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Unreadable("it is not valid notebook JSON") from None
    raw_cells = _raw_cells(nb)
    if raw_cells is None:
        raise Unreadable("it is JSON but not a notebook (no list of cells)")
    if len(raw_cells) > MAX_CELLS:
        raise Unreadable(f"it has more than {MAX_CELLS} cells")
    cells, source_chars = [], 0
    for raw in raw_cells:
        if not isinstance(raw, dict):
            continue
        kind = raw.get("cell_type") if raw.get("cell_type") in ("code", "markdown", "raw") else "raw"
        if kind == "raw" and raw.get("cell_type") == "heading":  # format 3's headings are text
            kind = "markdown"
        src = raw.get("source", raw.get("input", ""))  # format 3 keeps code in "input"
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if not isinstance(src, str):
            src = ""
        source_chars += len(src)
        if source_chars > MAX_SOURCE_CHARS:
            raise Unreadable(f"its cells hold more than {MAX_SOURCE_CHARS // 10**6} million characters "
                             "of text and code")
        meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        gid = nbg.get("grade_id") if isinstance(nbg.get("grade_id"), str) else None
        cid = raw.get("id") if isinstance(raw.get("id"), str) else None
        points = _points(nbg.get("points", 0))
        cells.append(
            Cell(
                kind,
                src,
                gid,
                cid,
                bool(nbg.get("locked")),
                bool(nbg.get("solution")),
                bool(nbg.get("grade")),
                points,
            )
        )
    return cells


def _raw_cells(nb) -> list | None:
    """The list of cells of a parsed notebook, format 4 (``cells``) or 3 (the cells of every
    worksheet), or None if it is not a notebook."""
    if not isinstance(nb, dict):
        return None
    if isinstance(nb.get("cells"), list):
        return nb["cells"]
    sheets = nb.get("worksheets")
    if isinstance(sheets, list) and sheets and all(isinstance(w, dict) for w in sheets):
        if all(isinstance(w.get("cells", []), list) for w in sheets):
            return [c for w in sheets for c in w.get("cells", [])]
    return None


def split_test(source: str) -> tuple[str, str]:
    """(visible part, hidden part) of a test cell's source."""
    if HIDDEN_BEGIN not in source:
        return source, ""
    visible, _, rest = source.partition(HIDDEN_BEGIN)
    hidden, _, after = rest.partition(HIDDEN_END)
    return visible.rstrip() + "\n" + after.strip() + "\n", hidden


def defined_names(source: str) -> set[str]:
    """Top-level names a cell defines (functions, classes, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def load_master(path: Path) -> Master:
    data = Path(path).read_bytes()
    cells = parse_cells(data)
    meta = json.loads(data).get("metadata", {})
    items, answers = [], set()
    for cell in cells:
        if cell.solution and cell.kind == "code":
            answers |= defined_names(cell.source)
        if cell.grade and cell.grade_id:
            manual = cell.kind == "markdown"
            visible, hidden = ("", "") if manual else split_test(cell.source)
            items.append(Item(cell.grade_id, cell.points, manual, visible, hidden))
    policy = meta.get("emlab", {}).get("grading", {}) if isinstance(meta.get("emlab"), dict) else {}
    return Master(Path(path).stem, cells, items, answers, policy)


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def plan(master: Master, student: list[Cell]) -> Plan:
    """What runs for ``student`` (see the module docstring)."""
    by_gid = {c.grade_id: c for c in master.cells if c.grade_id}
    by_cid = {c.cell_id: c for c in master.cells if c.cell_id}
    released = {}  # what the student saw of each locked cell (a test cell without its hidden part)
    for c in master.cells:
        if c.locked or c.grade:
            released[_norm(split_test(c.source)[0] if c.grade and c.kind == "code" else c.source)] = c
    demos = {_norm(c.source) for c in master.cells if c.kind == "code" and not c.grade_id}

    def match(cell: Cell) -> Cell | None:
        if cell.grade_id in by_gid:
            return by_gid[cell.grade_id]
        if cell.cell_id in by_cid and by_cid[cell.cell_id].kind == cell.kind:
            return by_cid[cell.cell_id]
        return released.get(_norm(cell.source))

    out = Plan(cells=[])
    setups = [
        c
        for c in master.cells
        if c.kind == "code" and c.locked and not c.grade and not c.solution and _is_setup(c, master)
    ]
    placed: set[str] = set()
    answers_seen: dict[str, int] = {}
    edited_locked = []
    missing_setup = [c for c in setups if not any(match(s) is c for s in student if s.kind == "code")]
    for c in missing_setup:
        out.cells.append((c.grade_id or "setup", c.source, True))
        placed.add(c.grade_id or "setup")
    n_code = 0
    for i, cell in enumerate(student):
        m = match(cell)
        if cell.kind != "code":
            continue
        n_code += 1
        label = f"cell {i + 1}"
        if m is not None and m.kind == "code" and m in setups:
            if m.grade_id not in placed:
                out.cells.append((m.grade_id, m.source, True))
                placed.add(m.grade_id)
            if _norm(cell.source) != _norm(m.source):
                edited_locked.append(m.grade_id)
            continue
        if m is not None and m.kind == "code" and (m.grade or (m.locked and not m.solution)):
            same = _norm(cell.source) == _norm(split_test(m.source)[0] if m.grade else m.source)
            if same or cell.grade_id == m.grade_id:
                continue  # a check or test cell: tests are judged by the grader, checks not needed
        if _norm(cell.source) in demos:
            continue  # the master's demonstration cell, unchanged
        if m is not None and m.solution and m.grade_id:
            answers_seen[m.grade_id] = answers_seen.get(m.grade_id, 0) + 1
        out.cells.append((label, cell.source, False))
    for gid, count in answers_seen.items():
        if count > 1:
            out.notes.append(
                f"the answer cell {gid} appears {count} times (copied?): all were run in "
                "order, so the last definition counts"
            )
    for gid in edited_locked:
        out.notes.append(f"the locked cell {gid} was edited; the original was run instead")
    if missing_setup:
        out.notes.append(
            "the notebook lacks the locked cell(s) "
            + ", ".join(c.grade_id or "?" for c in missing_setup)
            + "; the originals were run first"
        )
    if n_code and all(c.grade_id is None for c in student):
        out.notes.append("the notebook has lost its nbgrader metadata; cells were matched by id and content")
    _collect_manual(master, student, match, out)
    return out


def _is_setup(cell: Cell, master: Master) -> bool:
    """A locked code cell that is not a check: it defines something (imports, data, helpers)."""
    try:
        tree = ast.parse(without_magics(cell.source))
    except SyntaxError:
        return False
    return any(
        isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign))
        for n in tree.body
    )


def _points(value) -> float:
    """A cell's ``points`` as a finite float (anything else, e.g. a 400-digit integer, counts 0: the
    points of an item come from the master, never from the student's copy)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    try:
        points = float(value)
    except OverflowError:
        return 0.0
    return points if math.isfinite(points) else 0.0


def without_magics(source: str) -> str:
    """The cell with IPython's ``%magic`` and ``!shell`` lines blanked (for reading it as Python)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _collect_manual(master: Master, student: list[Cell], match, out: Plan) -> None:
    """The text of each manually graded answer, looked for in its cell (without the placeholder, if
    the student wrote next to it) and, when that holds nothing else, in the student's own markdown
    cells next to it."""
    for item in (i for i in master.items if i.manual):
        text, index = None, None
        for i, cell in enumerate(student):
            m = match(cell)
            if cell.kind == "markdown" and m is not None and m.grade_id == item.grade_id:
                text, index = cell.source, i
        answer = None if text is None else text.replace(ANSWER_PLACEHOLDER, "").strip()
        if answer:  # written in its cell (the placeholder left above or below it is dropped)
            out.manual_answers[item.grade_id] = text if ANSWER_PLACEHOLDER not in text else answer
            continue
        nearby = []
        for j, cell in enumerate(student):
            if cell.kind == "markdown" and match(cell) is None and (index is None or abs(j - index) <= 3):
                if cell.source.strip():
                    nearby.append(cell.source)
        if nearby:
            out.manual_answers[item.grade_id] = "\n\n".join(nearby)
            out.manual_flags[item.grade_id] = "answer found outside its cell"
        else:
            out.manual_answers[item.grade_id] = ""
            out.manual_flags[item.grade_id] = "no answer written"
