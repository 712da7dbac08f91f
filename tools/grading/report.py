"""What grading writes into OUT, always rebuilt from the per-notebook results it keeps there.

``OUT/results/<student>/<exercise>.json``: one :class:`judge.NotebookResult` per graded notebook.
Everything else is derived from these and from ``OUT/manual_grades.csv`` (the instructor's scores),
so a re-run, a merge of shards and a change of a manual score all end in the same files:

* ``grades.csv``: a row per student, a column per graded item of the exercises graded so far
  (notebook order), ``total`` and ``max``; an item awaiting a manual score is empty;
* ``manual_grades.csv``: a row per (student, manual item) of each *submitted* notebook: fill in
  ``score``; the student's answer is in ``manual/<student>/<item>.md``;
* ``feedback/<student>/<exercise>.html`` and ``feedback/<student>/summary.txt``: outcomes, points
  and messages (no hidden test, no reference value, no code), regenerated with the manual scores;
* ``skipped.txt``: every folder of SUBMISSIONS that was not graded, and why.

Student ids are written to CSV with a leading ``'`` when they start with ``= + - @`` (or a tab or
CR), so a spreadsheet never evaluates them; everything shown in HTML is escaped.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

from judge import NotebookResult

MAX_FEEDBACK_BYTES = 256 * 1024
MAX_MESSAGE = 600

#: Characters that could forge a line of ``summary.txt`` or reorder what a reader sees: line breaks,
#: other control characters and the bidirectional overrides (a student controls some of the text).
_LAYOUT = {ord(c): " " for c in "\u2028\u2029\u0085"} | {
    c: None for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
} | {c: " " for c in (*range(0x00, 0x20), 0x7F)}


def one_line(text: str) -> str:
    """``text`` on one line, without the characters of :data:`_LAYOUT`."""
    return text.translate(_LAYOUT)


def _write(path: Path, text: str) -> None:
    """Write a text file; a lone surrogate (from a notebook's JSON) is kept as a ``\\udNNN`` escape."""
    path.write_text(text, encoding="utf-8", errors="backslashreplace")


def _open_csv(path: Path):
    return path.open("w", newline="", encoding="utf-8", errors="backslashreplace")


def csv_safe(text: str) -> str:
    """``text`` for a CSV cell: a leading ``= + - @``, tab or CR (which a spreadsheet would evaluate)
    and a leading ``'`` (so the escaping stays one-to-one) get a ``'`` in front."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "'") else text


def csv_unsafe(text: str) -> str:
    """The inverse of :func:`csv_safe`."""
    return text[1:] if text.startswith("'") else text


def student_folder(sid: str) -> str:
    """A folder name for a student id: readable, and distinct for distinct ids (a hash of the id)."""
    import hashlib

    digest = hashlib.sha256(sid.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{_safe_name(sid)[:60]}-{digest}"


def _unknown_files(out: Path, sid: str) -> list[str]:
    path = out / "results" / student_folder(sid) / "id.json"
    try:
        return [str(n)[:200] for n in json.loads(path.read_text()).get("unknown_files", [])][:100]
    except (OSError, ValueError, AttributeError):
        return []


def load_results(out: Path) -> dict[str, dict[str, NotebookResult]]:
    results: dict[str, dict[str, NotebookResult]] = {}
    root = out / "results"
    if not root.is_dir():
        return results
    for folder in sorted(root.iterdir()):
        if not folder.is_dir():
            continue
        sid = (
            json.loads((folder / "id.json").read_text())["student"]
            if (folder / "id.json").exists()
            else folder.name
        )
        for path in sorted(folder.glob("*.json")):
            if path.name == "id.json":
                continue
            results.setdefault(sid, {})[path.stem] = NotebookResult.from_json(json.loads(path.read_text()))
    return results


def read_manual(out: Path) -> dict[tuple[str, str], float]:
    """The instructor's manual scores: {(student, grade id): score}."""
    path = out / "manual_grades.csv"
    scores = {}
    if not path.exists():
        return scores
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            sid = csv_unsafe(row.get("student", ""))
            text = (row.get("score") or "").strip()
            if text:
                try:
                    scores[(sid, row.get("item", ""))] = float(text)
                except ValueError:
                    pass
    return scores


def _score(item, sid: str, manual: dict) -> float | None:
    if item.status == "manual":
        given = manual.get((sid, item.grade_id))
        return None if given is None else max(0.0, min(float(given), item.max))
    return max(0.0, min(float(item.score or 0.0), item.max))


def write_all(out: Path, order: list[str], skipped: list[str] | None = None) -> None:
    """Rebuild grades.csv, manual_grades.csv, feedback/ and skipped.txt from OUT/results."""
    results = load_results(out)
    manual = read_manual(out)
    exercises = [e for e in order if any(e in r for r in results.values())]
    columns: list[tuple[str, str, float]] = []
    for ex in exercises:
        sample = next(r[ex] for r in results.values() if ex in r)
        columns += [(ex, i.grade_id, i.max) for i in sample.items]
    with _open_csv(out / "grades.csv") as fh:
        w = csv.writer(fh)
        w.writerow(["student", *[c[1] for c in columns], "total", "max"])
        for sid in sorted(results):
            row, total, maximum = [csv_safe(sid)], 0.0, 0.0
            for ex, gid, mx in columns:
                item = (
                    next((i for i in results[sid][ex].items if i.grade_id == gid), None)
                    if ex in results[sid]
                    else None
                )
                score = _score(item, sid, manual) if item is not None else None
                row.append("" if score is None else f"{score:g}")
                total += score or 0.0
                maximum += mx if ex in results[sid] else 0.0
            w.writerow(row + [f"{total:g}", f"{maximum:g}"])
    _write_manual(out, results, manual)
    for sid, per in results.items():
        _write_feedback(out, sid, per, manual, [e for e in order if e in per])
    if skipped is not None:
        _write(out / "skipped.txt", "".join(f"{line}\n" for line in skipped) or "nothing was skipped\n")


def _write_manual(out: Path, results, manual) -> None:
    rows = []
    for sid in sorted(results):
        for ex, res in results[sid].items():
            if not res.submitted:
                continue
            for item in res.items:
                if item.status != "manual":
                    continue
                folder = out / "manual" / student_folder(sid)
                folder.mkdir(parents=True, exist_ok=True)
                _write(folder / f"{item.grade_id}.md", res.manual_answers.get(item.grade_id, ""))
                given = manual.get((sid, item.grade_id))
                rows.append(
                    [
                        csv_safe(sid),
                        ex,
                        item.grade_id,
                        f"{item.max:g}",
                        "" if given is None else f"{given:g}",
                        res.manual_flags.get(item.grade_id, ""),
                        f"manual/{student_folder(sid)}/{item.grade_id}.md",
                    ]
                )
    with _open_csv(out / "manual_grades.csv") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "exercise", "item", "max", "score", "remark", "answer"])
        w.writerows(rows)


def _safe_name(sid: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in sid).lstrip(".") or "_"


def _write_feedback(out: Path, sid: str, per: dict[str, NotebookResult], manual, order: list[str]) -> None:
    folder = out / "feedback" / student_folder(sid)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"Feedback for {sid!r}", ""]
    extra = _unknown_files(out, sid)
    if extra:
        lines += ["Files in your folder that are not exercises (not graded): " + one_line(", ".join(extra)[:2000]), ""]
    grand, grand_max = 0.0, 0.0
    for ex in order:
        res = per[ex]
        got = [(_score(i, sid, manual), i) for i in res.items]
        total = sum(s or 0.0 for s, _ in got)
        mx = sum(i.max for i in res.items)
        grand, grand_max = grand + total, grand_max + mx
        pending = any(s is None for s, _ in got)
        lines.append(
            f"{ex}: {total:g} / {mx:g}"
            + (" (a manual score is pending)" if pending else "")
            + ("" if res.submitted else " (not submitted)")
        )
        for score, item in got:
            mark = "…" if score is None else ("✔" if score == item.max and item.max > 0 else "✘")
            shown = "pending" if score is None else f"{score:g}/{item.max:g}"
            lines.append(
                f"  {mark} {item.grade_id}: {shown}"
                + (f" — {one_line(item.message[:MAX_MESSAGE])}" if item.message else "")
            )
        for note in res.notes + [f"stopped by {x}" for x in res.limits_hit]:
            lines.append(f"  note: {one_line(note[:MAX_MESSAGE])}")
        lines.append("")
        _write(folder / f"{ex}.html", _html(sid, ex, res, got)[:MAX_FEEDBACK_BYTES])
    lines.append(f"total: {grand:g} / {grand_max:g}")
    _write(folder / "summary.txt", "\n".join(lines)[:MAX_FEEDBACK_BYTES] + "\n")


def _html(sid: str, ex: str, res: NotebookResult, got) -> str:
    e = html.escape
    rows = []
    for score, item in got:
        shown = "pending (graded by hand)" if score is None else f"{score:g} / {item.max:g}"
        state = "pending" if score is None else ("pass" if score == item.max and item.max > 0 else "fail")
        rows.append(
            f"<tr class='{state}'><td>{e(item.grade_id)}</td><td>{e(shown)}</td>"
            f"<td>{e(item.message[:MAX_MESSAGE])}</td></tr>"
        )
    notes = "".join(
        f"<li>{e(n[:MAX_MESSAGE])}</li>" for n in res.notes + [f"stopped by {x}" for x in res.limits_hit]
    )
    total = sum(s or 0.0 for s, _ in got)
    mx = sum(i.max for _, i in got)
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>{e(ex)}: feedback</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td{padding:.3em .6em;"
        "border-bottom:1px solid #ccc}.pass td:first-child{border-left:4px solid #1b7837}"
        ".fail td:first-child{border-left:4px solid #b2182b}"
        ".pending td:first-child{border-left:4px solid #999}"
        "</style>"
        f"<h1>{e(ex)}</h1><p>Student: {e(sid)}. Score: {total:g} / {mx:g}"
        f"{'' if res.submitted else ' (not submitted)'}</p>"
        f"<table><tr><th>item</th><th>points</th><th>what the grader found</th></tr>{''.join(rows)}</table>"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "</html>\n"
    )
