"""How long one edit of the forward-backward spreadsheet takes to redraw (33-day diary).

An edit of a parameter or a day recomputes the whole sheet (forward, backward, posteriors, counts,
10 Baum-Welch iterations, Viterbi) and redraws its three figures and three HTML tables; choosing
another day redraws only the trellis. Each is timed over several random edits, median of the
runs, and printed beside the peer measured in the same run: one render of lecture 03's
Baum-Welch stepper (``BaumWelchStepper.render`` to PNG), the widget the spreadsheet sits next to.
The chart explorer of lecture 04 (Manning & Schütze's sentence) is timed the same way.

Run: ``.venv/bin/python benchmarks/spreadsheet_redraw.py`` (no kernel or browser needed: the
figures are rendered to PNG bytes exactly as the widget does, the ipywidgets transport is not
included).
"""

from __future__ import annotations

import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from emlab import data  # noqa: E402
from emlab.widgets import BaumWelchStepper  # noqa: E402
from emlab.widgets.chart import CHART_FIGURES, ChartExplorer  # noqa: E402
from emlab.widgets.sheet import forward_backward_sheet  # noqa: E402
from emlab.widgets.spreadsheet import FIGURES, Spreadsheet  # noqa: E402

REPEATS = 7


def median_time(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    sheet = Spreadsheet(n_iter=10)
    sheet.png("trellis")                                    # warm up fonts and caches

    def edit():                       # one edit, alternately of a probability and of a day's count
        if rng.random() < 0.5:
            name = ["trans", "emit"][int(rng.integers(2))]
            value = round(rng.uniform(0.05, 0.9), 2)
            sheet.edit_parameter(name, int(rng.integers(2)), int(rng.integers(3)), value)
        else:
            sheet.edit_day(int(rng.integers(1, 34)), int(rng.integers(1, 4)))
        for name in FIGURES:
            sheet.png(name)
        sheet.tables()

    def compute_only():
        forward_backward_sheet(sheet.model, sheet.diary, 10)

    def select_day():
        sheet.select_day(int(rng.integers(1, 34)))
        sheet.png("trellis")

    stepper = BaumWelchStepper(data.eisner_initial(), data.eisner_data())

    def peer():
        fig = stepper.render()
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)

    explorer = ChartExplorer()
    sentences = ["astronomers saw stars with ears", "astronomers saw stars with telescopes",
                 "astronomers saw ears with stars"]

    def chart_edit():
        explorer.set_sentence(sentences[int(rng.integers(len(sentences)))])
        for name in CHART_FIGURES:
            explorer.png(name)
        explorer.counts_html()

    t_peer = median_time(peer)
    rows = [("spreadsheet: a parameter or day edit, full redraw", median_time(edit)),
            ("spreadsheet: the computation alone", median_time(compute_only)),
            ("spreadsheet: choose another day (trellis only)", median_time(select_day)),
            ("chart explorer: new sentence, full redraw", median_time(chart_edit)),
            ("peer: one Baum-Welch stepper render", t_peer)]
    print(f"median of {REPEATS} runs, 33-day diary")
    for label, t in rows:
        print(f"  {label:<50} {1000 * t:7.1f} ms   {t / t_peer:5.2f} x peer")


if __name__ == "__main__":
    main()
