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

# The widgets the lectures promise: notebook prefix -> [(kind regex, label regex, what must change)].
EXPECTED: dict[str, list[tuple[str, str, set[str]]]] = {
    "02": [("slider", r"θ", {"image"})],  # θ_t of the lower-bound picture
    "03": [("button", r"EM step", {"image"}), ("button", r"reset", {"image"})],  # Baum-Welch stepper
    "05": [("slider", r"δ", {"image"})],  # separation of the two Gaussians -> convergence rate
    "06": [("slider", r"seed", {"image"}), ("dropdown", r"init", {"image"})],  # initialization chooser
}

# Explicit protocols: the picture is a function of the widget's setting, not merely "something changed".
#   "extremes": End -> A, Home -> B != A, End -> A again (a slider redraws for its value, reproducibly)
#   "options":  option 1 -> A, option 2 -> B != A, option 1 -> A again
#   "stepper":  reset -> R, step -> S1 != R, step -> S2 != S1, reset -> R again (with its reset button)
PROTOCOLS = [
    ("02", "slider", r"θ", "extremes"),
    ("03", "button", r"EM step", "stepper"),
    ("05", "slider", r"δ", "extremes"),
    ("06", "slider", r"seed", "extremes"),
    ("06", "dropdown", r"init", "options"),
]


def _expected_for(name: str):
    return [e for prefix, items in EXPECTED.items() if name.startswith(prefix) for e in items]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_widget_changes_what_it_controls(course, name, screenshots):
    session, run = course.run(name)
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
    course.report(
        name,
        [
            f"  {c['kind']} {c['label']!r} cell {c['cell']}: {results[c['id']][0]}; changed "
            f"{ {k: sorted(v) for k, v in results[c['id']][1].items()} } after {results[c['id']][2]:.1f}s"
            for c in active
        ],
    )
    problems = [p for p in session.inspect().problems() if p not in run.problems()]  # new since Run All
    assert not failures and not problems, f"{name}:\n" + "\n".join(failures + problems)


def _protocol_cases():
    for prefix, kind, label, protocol in PROTOCOLS:
        for name in NOTEBOOKS:
            if name.startswith(prefix):
                yield pytest.param(name, kind, label, protocol, id=f"{name[:2]}-{kind}-{protocol}")


@pytest.mark.parametrize(("name", "kind", "label", "protocol"), list(_protocol_cases()))
def test_known_widget_redraws_for_its_setting(course, name, kind, label, protocol):
    session, run = course.run(name)
    session.page.bring_to_front()
    controls = session.controls()["controls"]
    matches = [c for c in controls if c["kind"] == kind and re.search(label, c["label"])]
    assert matches, f"{name}: no {kind} labelled /{label}/ among {controls}"
    control = matches[0]
    if protocol == "extremes":
        a = session.settle(control, "End")
        b = session.settle(control, "Home")
        a_again = session.settle(control, "End")
        assert a != b, f"{name}: {kind} {control['label']!r} shows the same outputs at both ends"
        assert a_again == a, f"{name}: {kind} {control['label']!r} at its maximum again draws something else"
    elif protocol == "options":
        values = session.options(control)
        assert len(values) >= 2, f"{name}: {kind} {control['label']!r} offers {values}"
        a = session.settle(control, f"option:{values[0]}")
        b = session.settle(control, f"option:{values[1]}")
        a_again = session.settle(control, f"option:{values[0]}")
        assert a != b, f"{name}: options {values[0]!r} and {values[1]!r} show the same outputs"
        assert a_again == a, f"{name}: option {values[0]!r} chosen again draws something else"
    elif protocol == "stepper":
        resets = [
            c
            for c in controls
            if c["kind"] == "button"
            and c["cell"] == control["cell"]
            and re.search(r"reset", c["label"], re.I)
        ]
        assert resets, f"{name}: no reset button next to {control['label']!r}"
        start = session.settle(resets[0], "click")
        one = session.settle(control, "click")
        two = session.settle(control, "click")
        start_again = session.settle(resets[0], "click")
        assert one != start and two != one, f"{name}: {control['label']!r} does not redraw at each step"
        assert start_again == start, f"{name}: reset does not bring back the starting picture"
    else:
        raise AssertionError(f"unknown protocol {protocol}")
    problems = [p for p in session.inspect().problems() if p not in run.problems()]  # new since Run All
    assert not problems, f"{name}:\n" + "\n".join(problems)
