"""The notebooks' widgets (ipywidgets).

Each widget is a thin shell around a plain drawing function, so the same figure can be drawn
without a widget (static HTML, tests) and the widget only adds the controls.

- :func:`lower_bound_widget` (02): the EM lower bound with a slider over ``θ_t``.
- :func:`baum_welch_stepper` (03): Baum-Welch one iteration at a time on the ice-cream data.
- :func:`rate_widget` (05): the linear rate of EM against the separation of two components.
- :func:`init_widget` (06): an initialization strategy and a seed, and where EM lands.
"""

from .bound import draw_lower_bound, lower_bound_widget
from .convergence import draw_rate, rate_widget
from .hmm import BaumWelchStepper, baum_welch_stepper
from .init import draw_init_run, init_widget

__all__ = [
    "draw_lower_bound", "lower_bound_widget", "draw_rate", "rate_widget",
    "BaumWelchStepper", "baum_welch_stepper", "draw_init_run", "init_widget",
]

# The forward-backward spreadsheet (03_hmm_spreadsheet) and the inside chart (04_pcfg_chart_explorer).
from .spreadsheet import Spreadsheet, draw_spreadsheet, spreadsheet_widget  # noqa: E402

__all__ += ["Spreadsheet", "draw_spreadsheet", "spreadsheet_widget"]
from .chart import ChartExplorer, chart_widget, draw_chart_explorer  # noqa: E402

__all__ += ["ChartExplorer", "chart_widget", "draw_chart_explorer"]
