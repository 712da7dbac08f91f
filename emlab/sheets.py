"""The records of the two spreadsheet companions (notebooks 03 and 04): :class:`Sheet`, every table
of Eisner's forward-backward spreadsheet (built by :func:`emlab.widgets.sheet.forward_backward_sheet`),
and :class:`ChartSheet`, every chart of the inside-chart explorer (built by
:func:`emlab.widgets.chart_sheet.inside_chart_sheet`).

Records only, below both :mod:`emlab.widgets`, which builds them, and :mod:`emlab.plots`, which draws
them, so each imports them directly (the widgets import the plots: a record kept in a widget module
could not be imported by a plot without an import circle). Both widget modules re-export them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .trees import tree_spans

if TYPE_CHECKING:
    from . import hmm, pcfg

__all__ = ["Sheet", "ChartSheet"]


@dataclass(frozen=True)
class Sheet:
    """All tables of the spreadsheet for one model and one diary (see the module docstring).

    Attributes (``T`` days, ``K`` states, ``V`` symbols, ``N`` iterations)
    ----------
    model : the HMM the tables are computed under (iteration 0).
    diary : (T,) int symbols.
    alpha, beta : (T, K) unscaled forward and backward probabilities.
    p_x : float, ``p(x)`` (including the STOP transition when the model has STOP).
    alpha_beta : (T,) ``Σ_y α_i(y) β_i(y)`` per day: each equals ``p_x``.
    gamma : (T, K) ``α β / p(x)``; xi : (T-1, K, K) edge posteriors.
    counts : expected counts, keys and shapes of ``model.params()``.
    reestimated : the HMM after one M-step on ``counts``.
    models : the iterates 0..N of Baum-Welch (``models[0] is model``, ``models[1]`` re-estimated).
    log_likelihoods : (N+1,) ``log p(x)`` of each iterate.
    gammas : (N+1, T, K) the posteriors of each iterate.
    viterbi_path : (T,) the best path under ``model``; viterbi_log_prob its ``log p(x, path)``.
    posterior_path : (T,) ``argmax_y γ_i(y)``.
    """

    model: hmm.HMM
    diary: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    p_x: float
    alpha_beta: np.ndarray
    gamma: np.ndarray
    xi: np.ndarray
    counts: dict
    reestimated: hmm.HMM
    models: list
    log_likelihoods: np.ndarray
    gammas: np.ndarray
    viterbi_path: np.ndarray
    viterbi_log_prob: float
    posterior_path: np.ndarray

    @property
    def n_iter(self) -> int:
        return len(self.models) - 1

    @property
    def decodings_differ(self) -> np.ndarray:
        """Indices (0-based) of the days where Viterbi and posterior-max decoding disagree."""
        return np.flatnonzero(self.viterbi_path != self.posterior_path)

    @property
    def max_check_error(self) -> float:
        """``max_i |Σ_y α_i(y) β_i(y) / p(x) − 1|``: rounding only, when forward-backward is right."""
        return float(np.max(np.abs(self.alpha_beta / self.p_x - 1.0)))


@dataclass(frozen=True)
class ChartSheet:
    """The inside chart and what follows from it, for one grammar and one sentence.

    Attributes (``n`` words, ``N`` nonterminals)
    ----------
    grammar : the :class:`emlab.pcfg.PCFG`.
    words : list of the sentence's words.
    inside, outside : (n+1, n+1, N) ``β`` and ``α`` (0 where ``j <= i``).
    log_p : ``log p(x)``; p_x : ``p(x)`` (0.0 when it underflows, below ~1e-308).
    labelled : (n+1, n+1, N) ``α β / p(x)``, from the scaled charts (:func:`emlab.pcfg.span_posteriors`),
        so exact even when ``p(x)`` underflows; constituent : (n+1, n+1) its sum over ``A``.
    counts : ``{(lhs, rhs): expected count}`` for every rule of the grammar.
    tree : the CKY tree (nested tuples); tree_log_prob : its ``log p(x, t*)``.
    """

    grammar: pcfg.PCFG
    words: list
    inside: np.ndarray
    outside: np.ndarray
    log_p: float
    p_x: float
    labelled: np.ndarray
    constituent: np.ndarray
    counts: dict
    tree: tuple
    tree_log_prob: float

    def tree_spans(self) -> set[tuple[int, int, str]]:
        """The labelled spans ``(i, j, A)`` of the CKY tree."""
        return {(i, j, label) for label, i, j in tree_spans(self.tree)}
