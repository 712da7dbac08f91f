"""The forward-backward spreadsheet (03_hmm_spreadsheet) and the inside-chart explorer
(04_pcfg_chart_explorer), operated in JupyterLab as a student would.

For each: reset, then a valid edit of a parameter (the grammar) and of a day (the sentence) must
change every figure and every table of the widget; an invalid edit must show a "refused" message
and change nothing else (the edited box returns to its value); and the same edits from a reset
must draw exactly the same pictures and tables again. The widget's parts are found by their CSS
classes (``emlab-sheet-…``, ``emlab-chart-…``, set in emlab.widgets.spreadsheet / chart); the
status line is redrawn last, so a step is over when it has changed and everything is still.
Pictures of each step land in screenshots/spreadsheet/.
"""

from __future__ import annotations

import re

import jlab
import pytest

SHEET = "03_hmm_spreadsheet.ipynb"
CHART = "04_pcfg_chart_explorer.ipynb"
SHEET_FIGURES = [f"emlab-sheet-figure-{n}" for n in ("trellis", "iterations", "decodings")]
SHEET_TABLES = [f"emlab-sheet-table-{n}" for n in ("days", "counts", "iterations")]
SHEET_STATUS = "emlab-sheet-status"
CHART_FIGURES = [f"emlab-chart-figure-{n}" for n in ("chart", "spans", "tree")]
CHART_TABLES = ["emlab-chart-table-counts"]
CHART_STATUS = "emlab-chart-status"


class Driver:
    """One widget in one notebook page: find its controls by label, act, wait for its parts."""

    def __init__(self, course, name, parts, status, screenshots):
        self.session, self.run = course.run(name)
        self.session.page.bring_to_front()
        self.parts, self.status = parts, status
        self.classes = parts + [status]
        self.folder = screenshots / "spreadsheet"
        self.folder.mkdir(exist_ok=True)
        self.stem = name.removesuffix(".ipynb")
        self.controls = self.session.controls()["controls"]

    def control(self, kind: str, label: str):
        found = [c for c in self.controls if c["kind"] == kind and re.fullmatch(label, c["label"])]
        assert found, f"{self.session.name}: no {kind} labelled /{label}/ among {self.controls}"
        el = self.session.page.locator(f'[data-h7-control="{found[0]["id"]}"]')
        el.scroll_into_view_if_needed()
        return el

    def now(self) -> dict:
        return jlab.widget_parts(self.session, self.classes)

    def act(self, action, may_change_nothing: bool = False) -> dict:
        before = self.now()
        assert all(before[c] is not None for c in self.classes), f"widget parts missing: {before}"
        action()
        try:
            return jlab.wait_parts_settled(self.session, self.classes, before, last=self.status)
        except TimeoutError:
            if may_change_nothing:
                return self.now()
            raise

    def type_into(self, kind: str, label: str, text: str, key: str = "Enter") -> None:
        box = self.control(kind, label).locator("input, textarea").first
        box.fill(text)
        box.press(key)

    def value_of(self, kind: str, label: str) -> str:
        return self.control(kind, label).locator("input, textarea").first.input_value()

    def shoot(self, step: str) -> None:
        widget = self.session.page.locator(".emlab-spreadsheet, .emlab-chart-explorer").first
        widget.screenshot(path=str(self.folder / f"{self.stem}-{step}.png"))

    def changed_everything(self, a: dict, b: dict) -> list[str]:
        """The parts that did *not* change from a to b (with what they show), empty when all did."""
        return [(c, a[c]["images"], b[c]["images"]) for c in self.parts if jlab.same_picture(a[c], b[c])]

    def problems(self) -> list[str]:
        return [p for p in self.session.inspect().problems() if p not in self.run.problems()]


@pytest.fixture
def sheet(course, screenshots):
    return Driver(course, SHEET, SHEET_FIGURES + SHEET_TABLES, SHEET_STATUS, screenshots)


@pytest.fixture
def chart(course, screenshots):
    return Driver(course, CHART, CHART_FIGURES + CHART_TABLES, CHART_STATUS, screenshots)


def test_spreadsheet_edits_redraw_everything_reproducibly_and_refuse_invalid_input(sheet):
    reset = lambda: sheet.control("button", "reset").click()  # noqa: E731
    edit_q = lambda v: lambda: sheet.type_into("text", r"q\(C\|C\)", v)  # noqa: E731
    day_one_eats_one = lambda: sheet.control("togglebuttons", "ice creams").locator(  # noqa: E731
        "button", has_text=re.compile(r"^1$")).click()

    start = sheet.act(reset, may_change_nothing=True)
    assert "starting parameters" in start[SHEET_STATUS]["raw"]
    assert all(start[c]["widest"] <= 900 for c in SHEET_FIGURES), start
    sheet.shoot("0-start")

    param = sheet.act(edit_q("0.6"))
    assert "refused" not in param[SHEET_STATUS]["raw"], param[SHEET_STATUS]["raw"]
    unchanged = sheet.changed_everything(start, param)
    assert not unchanged, f"q(C|C) = 0.6 left these parts as they were: {unchanged}"
    assert sheet.value_of("text", r"q\(H\|C\)") == "0.2"                 # the rest of the row rescaled
    sheet.shoot("1-parameter")

    day = sheet.act(day_one_eats_one)                                    # day 1 is selected after reset
    unchanged = sheet.changed_everything(param, day)
    assert not unchanged, f"day 1 = 1 ice cream left these parts as they were: {unchanged}"
    assert sheet.value_of("text", "diary").startswith("13323")
    sheet.shoot("2-day")

    refused = sheet.act(edit_q("1.7"))
    assert "refused" in refused[SHEET_STATUS]["raw"] and "1.7" in refused[SHEET_STATUS]["raw"]
    assert all(jlab.same_picture(day[c], refused[c]) for c in sheet.parts), "a refused edit changed a part"
    assert sheet.value_of("text", r"q\(C\|C\)") == "0.6"                 # the box shows the kept value
    sheet.shoot("3-refused")
    refused_diary = sheet.act(lambda: sheet.type_into("text", "diary", "2332x"))
    assert "refused" in refused_diary[SHEET_STATUS]["raw"] and "x" in refused_diary[SHEET_STATUS]["raw"]
    assert all(jlab.same_picture(day[c], refused_diary[c]) for c in sheet.parts)
    assert sheet.value_of("text", "diary").startswith("13323")

    again = sheet.act(reset)
    differ = [(c, start[c]["images"], again[c]["images"]) for c in sheet.classes
              if not jlab.same_picture(start[c], again[c])]
    assert not differ, f"reset draws another picture: {differ}"
    assert sheet.act(edit_q("0.6")) == param, "the same parameter edit draws another picture"
    assert sheet.act(day_one_eats_one) == day, "the same day edit draws another picture"
    assert not sheet.problems()
    assert sheet.act(reset) == again                  # leave the widget as the notebook drew it


def test_chart_explorer_edits_redraw_everything_reproducibly_and_refuse_invalid_input(chart):
    reset = lambda: chart.control("button", "reset").click()  # noqa: E731
    sentence = lambda text: lambda: chart.type_into("text", "sentence", text)  # noqa: E731
    grammar = lambda text: lambda: chart.type_into("textarea", "grammar", text, key="Tab")  # noqa: E731

    start = chart.act(reset, may_change_nothing=True)
    rules = chart.value_of("textarea", "grammar")
    assert "NP -> NP PP 0.4" in rules
    edited = rules.replace("NP -> NP PP 0.4", "NP -> NP PP 0.2")
    edited = edited.replace("NP -> stars 0.18", "NP -> stars 0.38")
    assert "p(x) = 0.0015876" in start[CHART_STATUS]["raw"]
    assert all(start[c]["widest"] <= 900 for c in CHART_FIGURES), start
    chart.shoot("0-start")

    words = chart.act(sentence("astronomers saw stars with telescopes"))
    unchanged = chart.changed_everything(start, words)
    assert not unchanged and "refused" not in words[CHART_STATUS]["raw"], unchanged
    chart.shoot("1-sentence")
    rule = chart.act(grammar(edited))
    unchanged = chart.changed_everything(words, rule)
    assert not unchanged and "refused" not in rule[CHART_STATUS]["raw"], unchanged
    chart.shoot("2-grammar")

    refused = chart.act(grammar(edited + "\nS -> NP 1.0"))               # a unary rule: not CNF
    assert "refused" in refused[CHART_STATUS]["raw"] and "Chomsky" in refused[CHART_STATUS]["raw"]
    assert all(jlab.same_picture(rule[c], refused[c]) for c in chart.parts)
    assert chart.value_of("textarea", "grammar") == edited                # the refused text is taken back
    chart.shoot("3-refused")
    no_parse = chart.act(sentence("stars saw"))
    assert "refused" in no_parse[CHART_STATUS]["raw"] and "no parse" in no_parse[CHART_STATUS]["raw"]
    assert all(jlab.same_picture(rule[c], no_parse[c]) for c in chart.parts)

    again = chart.act(reset)
    differ = [(c, start[c]["images"], again[c]["images"]) for c in chart.classes
              if not jlab.same_picture(start[c], again[c])]
    assert not differ, f"reset draws another picture: {differ}"
    assert chart.act(sentence("astronomers saw stars with telescopes")) == words
    assert chart.act(grammar(edited)) == rule, "the same grammar edit draws another picture"
    assert not chart.problems()
    assert chart.act(reset) == again                  # leave the widget as the notebook drew it
