"""Eisner's forward-backward spreadsheet as a widget (notebook 03_hmm_spreadsheet).

Three layers, each usable without the next:

- :mod:`emlab.widgets.sheet` computes every table (:func:`~emlab.widgets.sheet.forward_backward_sheet`)
  and validates edits;
- :class:`Spreadsheet` (here) holds the current model, diary, number of iterations and selected
  day, applies an edit only if it is valid (else it keeps everything and sets :attr:`message`),
  and renders the figures (:mod:`emlab.plots.spreadsheet`) and the HTML tables
  (:func:`sheet_tables_html`);
- :func:`spreadsheet_widget` adds the ipywidgets controls: one box per probability, the diary as
  text, a day slider with its count buttons, the number of iterations and a reset button.

Each edit recomputes the whole sheet (a few milliseconds for 33 days); the figures are redrawn
only when what they show changed (``benchmarks/spreadsheet_redraw.py`` times a redraw).
"""

from __future__ import annotations

import html
import io

import numpy as np

from .. import hmm
from ..data.icecream import EISNER_STATE_NAMES, SYMBOL_NAMES, eisner_data, eisner_initial
from ..plots.spreadsheet import plot_alpha_beta_trellis, plot_decodings, plot_iterations
from ..validation import check_instance, check_sequence
from .sheet import MAX_ITER, Sheet, format_diary, forward_backward_sheet, parse_diary, set_day, set_parameter
from .status import show_png, status_line

__all__ = ["Spreadsheet", "sheet_tables_html", "draw_spreadsheet", "spreadsheet_widget", "FIGURES", "TABLES"]

#: The figures, in display order; :meth:`Spreadsheet.figure` draws one by name.
FIGURES = ("trellis", "iterations", "decodings")
#: The HTML tables, in display order (:func:`sheet_tables_html`).
TABLES = ("days", "counts", "iterations")
# Which figures and tables each kind of change affects (everything else is left as drawn).
_AFFECTS = {
    "all": (FIGURES, TABLES),
    "day": (("trellis",), ()),
    "iterations": (("iterations",), ("iterations",)),
}

_TABLE_CSS = ("border-collapse:collapse;font-family:monospace;font-size:12px;"
              "text-align:right;white-space:nowrap")
_CELL = "padding:1px 6px;border-bottom:1px solid #ddd"


def _table(header: list[str], rows: list[list[str]], caption: str, max_height: int | None = None) -> str:
    head = "".join(f'<th style="{_CELL};position:sticky;top:0;background:#f4f4f4">{h}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in row) + "</tr>" for row in rows)
    box = f"max-height:{max_height}px;overflow:auto;" if max_height else ""
    return (f'<div style="{box}margin:4px 0"><table style="{_TABLE_CSS}">'
            f'<caption style="text-align:left;font-weight:bold;font-family:sans-serif;padding:2px 0">'
            f'{html.escape(caption)}</caption><tr>{head}</tr>{body}</table></div>')


def _param_labels(model, states, symbols) -> list[str]:
    labels = [f"q({s}|*)" for s in states]
    labels += [f"q({b}|{a})" for a in states for b in states]
    if model.stop is not None:
        labels += [f"q(STOP|{a})" for a in states]
    labels += [f"e({v}|{a})" for a in states for v in symbols]
    return labels


def _names(name: str, names, default, n: int, generated) -> list[str]:
    """``n`` display names: ``names`` when it has at least ``n``; the shipped ``default`` (Eisner's
    two states, the three ice-cream counts) replaced by ``generated(i)`` for a model of another size;
    a ``ValueError`` naming the argument when names given by the caller are too few."""
    what = "state" if name == "state_names" else "symbol"
    if names is not None and not isinstance(names, str):
        check_sequence(name, names, f"a list of names, one per {what}")
    given = [str(v) for v in names] if names is not None else []
    if len(given) >= n:
        return given[:n]
    if names is None or names is default:
        return [generated(i) for i in range(n)]
    raise ValueError(f"{name} has {len(given)} names but the model needs {n}: give one per {what}")


def _state_and_symbol_names(model, state_names, symbol_names) -> tuple[list[str], list[str]]:
    """The names of the model's K states (``s0``, ``s1``, … unless given) and V symbols (the
    ice-cream counts ``1``, ``2``, … unless given)."""
    return (_names("state_names", state_names, EISNER_STATE_NAMES, model.K, lambda i: f"s{i}"),
            _names("symbol_names", symbol_names, SYMBOL_NAMES, model.V, lambda v: str(v + 1)))


def _param_values(model) -> list[float]:
    vals = list(model.start) + list(model.trans.ravel())
    if model.stop is not None:
        vals += list(model.stop)
    return vals + list(model.emit.ravel())


def sheet_tables_html(sheet, state_names=EISNER_STATE_NAMES, symbol_names=SYMBOL_NAMES) -> dict[str, str]:
    """The spreadsheet's tables as HTML, keyed by :data:`TABLES`:

    - ``days``: one row per day, as in Eisner's sheet: the count, α and β of each state,
      ``Σ_y α β`` (equal to ``p(x)`` on every day), ``γ = αβ / p(x)``, ``ξ`` to the next day,
      the Viterbi and posterior-max states and ``≠`` where they differ;
    - ``counts``: the expected counts (start, transitions with STOP, emissions) and their totals;
    - ``iterations``: ``p(x)`` and every parameter of iterates 0..N (row 1 is the M-step of the
      counts table).
    """
    check_instance("sheet", sheet, Sheet, "a Sheet (from emlab.widgets.sheet.forward_backward_sheet)")
    K = sheet.model.K
    states, symbols = _state_and_symbol_names(sheet.model, state_names, symbol_names)
    pairs = [(a, b) for a in range(K) for b in range(K)]
    header = (["day", "x"] + [f"α({s})" for s in states] + [f"β({s})" for s in states] + ["Σ_y αβ"]
              + [f"γ({s})" for s in states] + [f"ξ({states[a]}→{states[b]})" for a, b in pairs]
              + ["Viterbi", "post. max", ""])
    rows = []
    for i, v in enumerate(sheet.diary):
        xi = [f"{sheet.xi[i, a, b]:.3f}" for a, b in pairs] if i < len(sheet.diary) - 1 else [""] * len(pairs)
        vit, post = sheet.viterbi_path[i], sheet.posterior_path[i]
        rows.append([str(i + 1), symbols[v]] + [f"{a:.3e}" for a in sheet.alpha[i]]
                    + [f"{b:.3e}" for b in sheet.beta[i]] + [f"{sheet.alpha_beta[i]:.4e}"]
                    + [f"{g:.3f}" for g in sheet.gamma[i]] + xi
                    + [states[vit], states[post], "≠" if vit != post else ""])
    check = "holds" if sheet.max_check_error < 1e-9 else "FAILS"
    days = _table(header, rows, f"per day: p(x) = {sheet.p_x:.6e}; the check Σ_y α_i(y) β_i(y) = p(x) "
                                f"{check} on all {len(sheet.diary)} days (largest relative error "
                                f"{sheet.max_check_error:.1e})", max_height=330)

    c = sheet.counts
    has_stop = "stop" in c
    head = ["from"] + [f"→ {s}" for s in states] + (["→ STOP"] if has_stop else []) + ["total c(y')"]
    crow = [["*"] + [f"{g:.4f}" for g in c["start"]] + ([""] if has_stop else [])
            + [f"{c['start'].sum():.4f}"]]
    for a in range(K):
        out = list(c["trans"][a]) + ([c["stop"][a]] if has_stop else [])
        crow.append([states[a]] + [f"{n:.4f}" for n in out] + [f"{sum(out):.4f}"])
    trans_table = _table(head, crow, "expected transition counts c(y', y) = Σ_i ξ_i(y', y)")
    erows = [[states[a]] + [f"{n:.4f}" for n in c["emit"][a]] + [f"{c['emit'][a].sum():.4f}"]
             for a in range(K)]
    emit_table = _table(["state"] + [f"x = {s}" for s in symbols] + ["total c(y)"], erows,
                        "expected emission counts c(y, x) = Σ_{i: x_i = x} γ_i(y)")
    counts = f'<div style="display:flex;gap:24px;flex-wrap:wrap">{trans_table}{emit_table}</div>'

    labels = _param_labels(sheet.model, states, symbols)
    irows = []
    for it, (m, ll) in enumerate(zip(sheet.models, sheet.log_likelihoods, strict=True)):
        irows.append([str(it), f"{np.exp(ll):.4e}", f"{ll:.4f}"] + [f"{p:.4f}" for p in _param_values(m)])
    iterations = _table(["iter.", "p(x)", "log p(x)"] + labels, irows,
                        "parameters and p(x) per iteration "
                        "(row 0: yours; row 1: the M-step of the counts above)",
                        max_height=330)
    return {"days": days, "counts": counts, "iterations": iterations}


class Spreadsheet:
    """The state behind the widget: ``model``, ``diary``, ``n_iter``, the selected ``day`` and the
    current :class:`~emlab.widgets.sheet.Sheet`.

    Every ``edit_*`` / ``set_*`` method either applies a valid change (recomputing the sheet) and
    returns True, or keeps everything as it was, sets :attr:`message` to why, and returns False.
    Functions in ``listeners`` are called as ``listener(kind)`` after every change or refusal, with
    ``kind`` one of ``"all"``, ``"day"``, ``"iterations"`` or ``"refused"``.
    """

    def __init__(self, model=None, diary=None, n_iter: int = 10, state_names=EISNER_STATE_NAMES,
                 symbol_names=SYMBOL_NAMES, state: int = 1):
        model = eisner_initial() if model is None else check_instance("model", model, hmm.HMM,
                                                                      "an emlab.hmm.HMM or None")
        diary = eisner_data() if diary is None else np.asarray(diary)
        self._initial = (model, diary, n_iter)
        self.state_names, self.symbol_names = _state_and_symbol_names(model, state_names, symbol_names)
        self.state = state
        self.listeners = []
        forward_backward_sheet(model, diary, n_iter)        # refuse a bad starting point at once
        self.reset()

    # -- changes ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the starting model, diary and number of iterations."""
        self.model, self.diary, self.n_iter = self._initial
        self.day = 1
        self.sheet = forward_backward_sheet(self.model, self.diary, self.n_iter)
        self.ok, self.message = True, "starting parameters and diary"
        self._notify("all")

    def _apply(self, what: str, kind: str = "all", *, model=None, diary=None, n_iter=None) -> bool:
        model = self.model if model is None else model
        diary = self.diary if diary is None else diary
        n_iter = self.n_iter if n_iter is None else n_iter
        try:
            sheet = forward_backward_sheet(model, diary, n_iter)
        except ValueError as exc:
            return self._refuse(what, exc)
        self.model, self.diary, self.n_iter, self.sheet = model, sheet.diary, n_iter, sheet
        self.day = min(self.day, len(sheet.diary))
        self.ok, self.message = True, what
        self._notify(kind)
        return True

    def _refuse(self, what: str, exc: Exception) -> bool:
        self.ok, self.message = False, f"refused {what}: {exc}. Nothing was changed."
        self._notify("refused")
        return False

    def edit_parameter(self, name: str, row: int, col: int, value) -> bool:
        """Set one probability; the rest of its row is rescaled (see ``sheet.set_parameter``)."""
        what = f"{self.parameter_label(name, row, col)} = {value}"
        try:
            model = set_parameter(self.model, name, row, col, value)
        except ValueError as exc:
            return self._refuse(what, exc)
        return self._apply(f"{what} (rest of the row rescaled to sum to 1)", model=model)

    def edit_day(self, day: int, count: int) -> bool:
        """Day ``day`` (1-based) ate ``count`` ice creams."""
        what = f"day {day} = {count} ice creams"
        try:
            diary = set_day(self.diary, day, count, self.model.V)
        except ValueError as exc:
            return self._refuse(what, exc)
        return self._apply(what, diary=diary)

    def set_diary(self, text: str) -> bool:
        """A whole new diary, one digit per day (``"2332…"``)."""
        what = f"the diary {text!r}"
        try:
            diary = parse_diary(text, self.model.V)
        except (TypeError, ValueError) as exc:
            return self._refuse(what, exc)
        return self._apply(f"new diary of {len(diary)} days", diary=diary)

    def em_step(self) -> bool:
        """Make the re-estimated parameters the current ones (iteration 1 becomes iteration 0), as in
        Eisner's sheet, where one copies the new parameters over the old to run the next iteration."""
        return self._apply("one EM step: the re-estimated parameters are now the current ones",
                           model=self.sheet.reestimated)

    def set_iterations(self, n: int) -> bool:
        return self._apply(f"{n} iterations", "iterations", n_iter=n)

    def select_day(self, day: int) -> bool:
        """Choose the day the count buttons edit (shaded in the trellis)."""
        if isinstance(day, bool) or not isinstance(day, (int, np.integer)) or not 1 <= day <= len(self.diary):
            return self._refuse(f"day {day!r}", ValueError(f"days run from 1 to {len(self.diary)}"))
        self.day = int(day)
        self._notify("day")
        return True

    def _notify(self, kind: str) -> None:
        for listener in self.listeners:
            listener(kind)

    # -- what is shown ------------------------------------------------------------------------
    def parameter_label(self, name: str, row: int, col: int) -> str:
        s, K = list(self.state_names), self.model.K
        if name == "start":
            return f"q({s[col]}|*)" if 0 <= col < K else f"start[{col}]"
        if name == "trans":
            to = "STOP" if col == K else (s[col] if 0 <= col < K else str(col))
            return f"q({to}|{s[row]})" if 0 <= row < K else f"trans[{row}]"
        if name == "emit" and 0 <= row < K and 0 <= col < self.model.V:
            return f"e({self.symbol_names[col]}|{s[row]})"
        return f"{name}[{row}, {col}]"

    def status_html(self) -> str:
        """One line: what the last change did, or why it was refused (with a "refused" badge)."""
        sh = self.sheet
        state = (f"p(x) = {sh.p_x:.4e}; Σ_y α_i(y) β_i(y) = p(x) on all {len(sh.diary)} days; "
                 f"{sh.n_iter} iterations: p(x) → {np.exp(sh.log_likelihoods[-1]):.4e}")
        return status_line(self.ok, self.message, state)

    def figure(self, name: str):
        """Draw one of :data:`FIGURES` for the current sheet; returns the matplotlib figure."""
        s, v = self.state_names, self.symbol_names
        if name == "trellis":
            return plot_alpha_beta_trellis(self.sheet, s, v, day=self.day)
        if name == "iterations":
            return plot_iterations(self.sheet, self.state, s, v)
        if name == "decodings":
            return plot_decodings(self.sheet, s, v)
        raise ValueError(f"name must be one of {FIGURES}, got {name!r}")

    def png(self, name: str) -> bytes:
        """One figure as PNG bytes."""
        fig = self.figure(name)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def tables(self) -> dict[str, str]:
        return sheet_tables_html(self.sheet, self.state_names, self.symbol_names)


def draw_spreadsheet(model=None, diary=None, n_iter: int = 10, state_names=EISNER_STATE_NAMES,
                     symbol_names=SYMBOL_NAMES, tables=TABLES) -> Spreadsheet:
    """The widget's picture without the widget (static HTML, nbval): every figure, then the
    ``tables`` asked for (names from :data:`TABLES`), displayed in the notebook. Returns the
    :class:`Spreadsheet`."""
    from IPython.display import HTML, display

    check_sequence("tables", tables, f"a list of table names from {TABLES}")
    unknown = [t for t in tables if not isinstance(t, str) or t not in TABLES]
    if unknown:
        raise ValueError(f"tables must name tables from {TABLES}, got {unknown[0]!r}")
    sheet = Spreadsheet(model, diary, n_iter, state_names, symbol_names)
    html_tables = sheet.tables()
    for name in FIGURES:
        display(sheet.figure(name))
        if name == "trellis":
            for t in ("days", "counts"):
                if t in tables:
                    display(HTML(html_tables[t]))
        if name == "iterations" and "iterations" in tables:
            display(HTML(html_tables["iterations"]))
    return sheet


def spreadsheet_widget(model=None, diary=None, n_iter: int = 10, state_names=EISNER_STATE_NAMES,
                       symbol_names=SYMBOL_NAMES):
    """The interactive spreadsheet: returns ``(widget, spreadsheet)``; display the widget.

    Controls: a box per probability (type a value and press Enter; the rest of its row is
    rescaled), the diary as text, a day slider with buttons for that day's count, the number of
    Baum-Welch iterations, "EM step" (the re-estimated parameters become the current ones) and
    "reset". An invalid entry shows a "refused" message and changes
    nothing (its box returns to the current value).
    """
    import ipywidgets as widgets

    sheet = Spreadsheet(model, diary, n_iter, state_names, symbol_names)
    m = sheet.model
    K, V = m.K, m.V
    states, symbols = sheet.state_names, sheet.symbol_names
    syncing = [False]
    narrow = widgets.Layout(width="150px")

    boxes = {}
    def box(name, row, col):
        w = widgets.FloatText(description=sheet.parameter_label(name, row, col), step=0.05, layout=narrow,
                              style={"description_width": "70px"})
        boxes[(name, row, col)] = w

        def changed(change):
            if not syncing[0]:
                sheet.edit_parameter(name, row, col, change["new"])
        w.observe(changed, names="value")
        return w

    n_cols = K + (1 if m.stop is not None else 0)
    start_row = widgets.HBox([widgets.Label("start", layout=widgets.Layout(width="60px"))]
                             + [box("start", 0, k) for k in range(K)])
    trans_rows = [widgets.HBox([widgets.Label(f"from {states[a]}", layout=widgets.Layout(width="60px"))]
                               + [box("trans", a, b) for b in range(n_cols)]) for a in range(K)]
    emit_rows = [widgets.HBox([widgets.Label(f"emit {states[a]}", layout=widgets.Layout(width="60px"))]
                              + [box("emit", a, v) for v in range(V)]) for a in range(K)]

    diary_box = widgets.Text(description="diary", continuous_update=False,
                             layout=widgets.Layout(width="520px"))
    day = widgets.IntSlider(min=1, max=len(sheet.diary), description="day", continuous_update=False)
    count = widgets.ToggleButtons(options=symbols[:V], description="ice creams",
                                  style={"button_width": "36px"})
    iters = widgets.IntSlider(min=1, max=min(30, MAX_ITER), description="iterations", continuous_update=False)
    reset = widgets.Button(description="reset", icon="undo")
    step = widgets.Button(description="EM step", icon="play",
                          tooltip="replace the parameters by the re-estimated ones (row 1 of the table)")
    status = widgets.HTML()
    figs = {name: widgets.Output() for name in FIGURES}
    tables = {name: widgets.HTML() for name in TABLES}
    status.add_class("emlab-sheet-status")
    for name in FIGURES:
        figs[name].add_class(f"emlab-sheet-figure-{name}")
    for name in TABLES:
        tables[name].add_class(f"emlab-sheet-table-{name}")

    def sync_controls():
        syncing[0] = True
        try:
            values = {("start", 0, k): sheet.model.start[k] for k in range(K)}
            for a in range(K):
                for b in range(K):
                    values[("trans", a, b)] = sheet.model.trans[a, b]
                if sheet.model.stop is not None:
                    values[("trans", a, K)] = sheet.model.stop[a]
                for v in range(V):
                    values[("emit", a, v)] = sheet.model.emit[a, v]
            for key, w in boxes.items():
                w.value = round(float(values[key]), 6)
            diary_box.value = format_diary(sheet.diary)
            day.max = len(sheet.diary)
            day.value = sheet.day
            count.value = symbols[sheet.diary[sheet.day - 1]]
            iters.value = sheet.n_iter
        finally:
            syncing[0] = False

    def redraw(kind):                      # the status line last: when it changes, the redraw is done
        sync_controls()
        fig_names, table_names = _AFFECTS.get(kind, ((), ()))
        if table_names:
            html_tables = sheet.tables()
            for name in table_names:
                tables[name].value = html_tables[name]
        for name in fig_names:
            show_png(figs[name], sheet.png(name))
        status.value = sheet.status_html()

    def on(widget, action):
        widget.observe(lambda change: None if syncing[0] else action(change["new"]), names="value")

    on(diary_box, sheet.set_diary)
    on(day, sheet.select_day)
    on(count, lambda c: sheet.edit_day(sheet.day, symbols.index(c) + 1))
    on(iters, sheet.set_iterations)
    reset.on_click(lambda _: sheet.reset())
    step.on_click(lambda _: sheet.em_step())
    sheet.listeners.append(redraw)
    redraw("all")

    def section(text):
        return widgets.HTML(f"<b>{html.escape(text)}</b>")

    controls = widgets.VBox(
        [section("parameters: type a probability, press Enter (the rest of its row is rescaled)"),
         start_row, *trans_rows, *emit_rows,
         section("diary: type it, or pick a day and click its count"),
         diary_box, widgets.HBox([day, count]), widgets.HBox([iters, step, reset])])
    ui = widgets.VBox([controls, status, figs["trellis"], tables["days"], tables["counts"],
                       figs["iterations"], tables["iterations"], figs["decodings"]])
    ui.add_class("emlab-spreadsheet")
    return ui, sheet
