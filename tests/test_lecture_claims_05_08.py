"""The asserts of lectures 05–08 can fail: perturb a notebook's input, and the cell that checks the
claim raises AssertionError (issue 13: "each replaced assert would fail if the claim were false").

Each test executes a few code cells of a lecture notebook in-process (no kernel: the cells are
short and call emlab), once as written — the claim holds — and once with one input changed so that
the claim is false — the assert must fire. Cells are picked by a string they contain, not by index.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _code_cells(name: str) -> list[str]:
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _select(name: str, markers: list[str]) -> list[str]:
    cells = _code_cells(name)
    chosen = []
    for marker in markers:
        hits = [c for c in cells if marker in c]
        if not hits:
            raise LookupError(f"{name}: no code cell contains {marker!r}")
        chosen.append(hits[0])
    return chosen


def _run(sources: list[str], replace: dict[str, str] | None = None) -> dict:
    """Execute the cells in one namespace, after textual replacements (each must apply)."""
    namespace: dict = {}
    for old in replace or {}:
        if not any(old in s for s in sources):
            raise LookupError(f"the perturbation target {old!r} is in none of the selected cells")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for src in sources:
            for old, new in (replace or {}).items():
                src = src.replace(old, new)
            src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith("%"))
            exec(compile(src, "<notebook cell>", "exec"), namespace)
            plt.close("all")
    return namespace


def _holds_then_fails(name, markers, replace):
    cells = _select(name, markers)
    _run(cells)                                  # as written: every assert holds
    with pytest.raises(AssertionError):
        _run(cells, replace)                     # with the claim made false: the assert fires


def test_05_singularity_assert_fails_without_a_collapse():
    # With floors no smaller than 0.1 the narrow component cannot collapse: L does not grow like −½ ln(floor).
    # (The narrow start variance 1e-2 is raised to the floor: a learned variance must start above it.)
    _holds_then_fails("05_convergence.ipynb",
                      ["from emlab import", "truth_g = mixture.GaussianMixture", "slope = np.polyfit"],
                      {"floors = np.array([1e-2, 1e-4, 1e-10, 1e-30, 1e-100, 1e-300])":
                       "floors = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])",
                       "[1e-2, 2.0], min_variance=floor": "[max(1e-2, floor), 2.0], min_variance=floor"})


def test_05_gap_ratio_is_r_squared_assert_fails_for_r():
    # Compare the gap ratio with r instead of r²: the claim "the gap shrinks like r²" must then fail.
    _holds_then_fails("05_convergence.ipynb",
                      ["from emlab import", "rows, gm_runs = [], {}", "gap ratio"],
                      {"r_gap = float(np.median(gap[1:][window] / gap[:-1][window]))":
                       "r_gap = float(np.median(gap[1:][window] / gap[:-1][window])) ** 0.5"})


def test_06_symmetric_perturbation_assert_fails_for_a_symmetry_breaking_one():
    # Give every state its own perturbed emission row: the states separate and do not fall back.
    _holds_then_fails("06_local_optima_init.ipynb",
                      ["from emlab import", "true = hmm.HMM(", "flat = em.fit(", "same_way = hmm.HMM("],
                      {"np.tile(row, (K, 1))":
                       "ex.jitter(hmm.HMM.uniform(K, V), scale=0.3, rng=2).emit"})


def test_07_unbiasedness_assert_fails_when_the_draws_are_hard_counts():
    # Average Viterbi counts instead of sampled ones: they do not average to the soft counts.
    _holds_then_fails("07_hard_soft_stochastic.ipynb",
                      ["from emlab import", "counts = {m: hmm.expected_counts", "draws = np.array(",
                       "assert np.abs(z_mean).max()"],
                      {'hmm.expected_counts(true, xs, method="stochastic", rng=seed)':
                       'hmm.expected_counts(true, xs, method="hard", rng=seed)'})


def test_08_missing_information_assert_fails_when_both_mixtures_are_separated():
    # Make the "overlapping" mixture separated: L-BFGS is then no longer several times faster than EM.
    _holds_then_fails("08_when_to_use_em.ipynb",
                      ["from emlab import", "def e_steps_to("],
                      {'"overlapping": [[0.35, 0.25, 0.2, 0.2], [0.2, 0.2, 0.25, 0.35]]':
                       '"overlapping": [[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]]'})
