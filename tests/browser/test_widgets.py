"""Every widget in every lecture notebook, operated in the browser, changes what it controls.

After the notebook has run (shared with test_notebooks.py), every interactive ipywidget on the page is
found generically (sliders, dropdowns, buttons, toggle buttons, radio buttons, checkboxes, selects, play,
text boxes) and operated the way a student would: a slider's handle gets End (or Home) from the
keyboard, a dropdown gets another option, a button is clicked. The test then waits for the outputs to
change *outside the control itself* (a figure's image data, a printed number, a label) and settle.
A control that changes nothing after every other control has been moved fails; so does an interactive
element no recipe knows how to operate, and any error output a move produces.

EXPECTED lists the widgets the lectures promise, so a notebook that loses one fails here too.
A picture of each control's cell after its move lands in screenshots/widgets/.
"""

from __future__ import annotations

import re

import jlab
import pytest

NOTEBOOKS = [p.name for p in jlab.notebooks()]

# notebook prefix -> [(kind regex, label regex, what must change: "image" and/or "text")]
EXPECTED: dict[str, list[tuple[str, str, set[str]]]] = {}


def _expected_for(name: str):
    return [e for prefix, items in EXPECTED.items() if name.startswith(prefix) for e in items]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_widget_changes_what_it_controls(course, name, screenshots):
    session, _ = course.run(name)
    session.page.bring_to_front()
    found = session.controls()
    controls, stray = found["controls"], found["stray"]
    assert not stray, f"{name}: interactive elements no recipe operates:\n" + "\n".join(stray)
    for kind, label, _ in _expected_for(name):
        assert any(re.search(kind, c["kind"]) and re.search(label, c["label"]) for c in controls), (
            f"{name}: expected a {kind} widget labelled /{label}/; found {controls}"
        )
    folder = screenshots / "widgets"
    folder.mkdir(exist_ok=True)
    stem = name.removesuffix(".ipynb")

    results: dict[int, tuple[str, dict[int, set[str]], float]] = {}

    def operate(control, apply=None):
        skip = f'[data-h7-control="{control["id"]}"]'
        before = session.signature(skip)
        action = session.move(control)
        if apply is not None:  # e.g. interact_manual: the change takes effect on "Run Interact"
            action += "; then " + session.move(apply)
        seconds = session.wait_for_change(before, skip)
        after = session.signature(skip)
        results[control["id"]] = (action, before.changed_cells(after) if seconds >= 0 else {}, seconds)
        cell = session.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(
            control["cell"]
        )
        cell.screenshot(path=str(folder / f"{stem}-{control['id']:02d}-{control['kind']}.png"))

    active = [c for c in controls if not c["disabled"]]
    for control in active:
        operate(control)
    # A control may legitimately change nothing from the initial state (a reset before any step);
    # once every other control has moved, it must, possibly after its cell's button applies it.
    for control in active:
        if results[control["id"]][2] < 0:
            buttons = [b for b in active if b["kind"] == "button" and b["cell"] == control["cell"]]
            operate(control, buttons[0] if buttons and buttons[0] is not control else None)

    failures = []
    for control in active:
        action, changed, seconds = results[control["id"]]
        where = f"{control['kind']} {control['label']!r} (cell {control['cell']})"
        if seconds < 0:
            failures.append(f"{where}: {action}, but no output changed")
    for kind, label, must in _expected_for(name):
        for control in active:
            if re.search(kind, control["kind"]) and re.search(label, control["label"]):
                _, changed, _ = results[control["id"]]
                seen = set().union(*changed.values()) if changed else set()
                if not must <= seen:
                    who = f"{control['kind']} {control['label']!r}"
                    failures.append(f"{who}: {must} should change, saw {seen}")
    course.report(name, [
        f"  {c['kind']} {c['label']!r} cell {c['cell']}: {results[c['id']][0]}; changed "
        f"{ {k: sorted(v) for k, v in results[c['id']][1].items()} } after {results[c['id']][2]:.1f}s"
        for c in active
    ])
    problems = session.inspect().problems()
    assert not failures and not problems, f"{name}:\n" + "\n".join(failures + problems)
