"""Every number of Eisner's forward-backward spreadsheet, computed from emlab's HMM functions
(notebook 03_hmm_spreadsheet).

J. Eisner, "An Interactive Spreadsheet for Teaching the Forward-Backward Algorithm" (2002) lays
out one row per day of an ice-cream diary ``x_1..x_T`` under an HMM with STOP, and from the
parameters it recomputes:

- the forward and backward probabilities ``α_i(y) = p(x_1..x_i, y_i = y)`` and
  ``β_i(y) = p(x_{i+1}..x_T, STOP | y_i = y)`` (:func:`emlab.hmm.forward_table`,
  :func:`emlab.hmm.backward_table`), and ``p(x) = Σ_y α_T(y) q(STOP | y)``;
- the check ``Σ_y α_i(y) β_i(y) = p(x)`` on *every* day ``i`` (each sum covers all paths once);
- the state posteriors ``γ_i(y) = α_i(y) β_i(y) / p(x)`` and the edge posteriors
  ``ξ_i(y', y) = α_i(y') q(y | y') e(x_{i+1} | y) β_{i+1}(y) / p(x)``;
- the expected counts ``c(*, y) = γ_1(y)``, ``c(y', y) = Σ_i ξ_i(y', y)``,
  ``c(y, STOP) = γ_T(y)``, ``c(y, x) = Σ_{i: x_i = x} γ_i(y)`` and the re-estimated parameters
  (the M-step, ``HMM.m_step``: each categorical normalized);
- ``p(x)`` for the iterates 0..N of Baum-Welch (:func:`emlab.em.fit`) and every iterate's
  posteriors;
- the Viterbi path (:func:`emlab.hmm.viterbi`) beside posterior-max decoding
  ``argmax_y γ_i(y)``: the best *sequence* need not be the sequence of best *days*.

The unscaled tables are what the spreadsheet shows; they are exact for a diary of a few hundred
days (``p(x)`` of 33 days is about 1e-18) and :data:`MAX_DAYS` keeps diaries in that range.

Edits are validated here too: :func:`set_parameter` returns a new model with one entry changed
and its row renormalized, :func:`set_day` / :func:`parse_diary` a new diary; each raises
``ValueError`` with a message for the reader and never returns a model or diary that is invalid.
Nothing here imports ipywidgets or matplotlib: the widget (:mod:`emlab.widgets.spreadsheet`) and
the figures (:mod:`emlab.plots.spreadsheet`) only display a :class:`Sheet`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import em, hmm
from ..sheets import Sheet
from ..validation import check_instance, check_scalar, check_symbols

__all__ = ["MAX_DAYS", "MAX_ITER", "PARAMETER_ROWS", "Sheet", "forward_backward_sheet",
           "set_parameter", "set_day", "parse_diary", "format_diary"]

#: Longest diary the sheet accepts (the unscaled tables underflow after about 700 days).
MAX_DAYS = 200
#: Most Baum-Welch iterations the sheet runs.
MAX_ITER = 50
#: The editable tables: ``start`` (one row), ``trans`` (a row per state, STOP as the last column
#: when the model has STOP: each row is one categorical) and ``emit`` (a row per state).
PARAMETER_ROWS = ("start", "trans", "emit")


def _check_diary(diary, V: int) -> np.ndarray:
    x = np.asarray(diary)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"diary must be a non-empty 1-D sequence of symbols, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"diary must hold integer symbols 0..{V - 1}, got dtype {x.dtype}")
    if x.size > MAX_DAYS:
        raise ValueError(f"the diary has {x.size} days; the spreadsheet shows at most {MAX_DAYS}")
    bad = np.flatnonzero((x < 0) | (x >= V))
    if bad.size:
        raise ValueError(f"day {bad[0] + 1} of the diary has symbol {x[bad[0]]}, outside 0..{V - 1}")
    return x.astype(np.intp)


def forward_backward_sheet(model: hmm.HMM, diary, n_iter: int = 10) -> Sheet:
    """Compute every table of the spreadsheet for ``model`` and ``diary`` and ``n_iter`` iterations.

    Raises ``ValueError`` when the diary has probability zero under ``model`` (no posterior is
    defined), when ``n_iter`` is not an integer in ``1..MAX_ITER`` or the diary is invalid.
    """
    if not isinstance(model, hmm.HMM):
        raise TypeError(f"model must be an emlab.hmm.HMM, got {type(model).__name__}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or not 1 <= n_iter <= MAX_ITER:
        raise ValueError(f"n_iter must be an integer from 1 to {MAX_ITER}, got {n_iter!r}")
    x = _check_diary(diary, model.V)
    alpha = hmm.forward_table(model, x)
    beta = hmm.backward_table(model, x)
    end = model.stop if model.stop is not None else np.ones(model.K)
    p_x = float(alpha[-1] @ end)
    if not (p_x > 0 and math.isfinite(p_x)):
        raise ValueError("the diary has probability zero under these parameters, so its posteriors "
                         "are undefined (some day's count, or the end, cannot be produced)")
    alpha_beta = (alpha * beta).sum(axis=1)
    gamma = alpha * beta / p_x
    after = model.emit[:, x[1:]].T * beta[1:]                       # e(x_{i+1} | y) β_{i+1}(y)
    xi = alpha[:-1, :, None] * model.trans[None] * after[:, None, :] / p_x
    emit_counts = np.zeros((model.K, model.V))
    np.add.at(emit_counts.T, x, gamma)                              # c(y, v) = Σ_{i: x_i = v} γ_i(y)
    counts = {"start": gamma[0].copy(), "trans": xi.sum(axis=0), "emit": emit_counts}
    if model.stop is not None:
        counts["stop"] = gamma[-1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.NotConvergedWarning)     # a fixed number of iterations on purpose
        res = em.fit(model, [x], max_iter=int(n_iter), tol=0.0, keep_models=True)
    models = list(res.models)
    gammas = np.stack([gamma] + [hmm.posteriors(m, x)[0] for m in models[1:]])
    path, log_prob = hmm.viterbi(model, x)
    return Sheet(model=model, diary=x, alpha=alpha, beta=beta, p_x=p_x, alpha_beta=alpha_beta,
                 gamma=gamma, xi=xi, counts=counts, reestimated=model.m_step(counts), models=models,
                 log_likelihoods=np.asarray(res.log_likelihoods), gammas=gammas,
                 viterbi_path=np.asarray(path), viterbi_log_prob=float(log_prob),
                 posterior_path=gamma.argmax(axis=1))


# ----------------------------------------------------------------------------- edits
def _rows(model: hmm.HMM) -> dict[str, np.ndarray]:
    """The categoricals as editable rows: start (1, K); trans (K, K[+1]) with STOP last; emit (K, V)."""
    trans = model.trans if model.stop is None else np.column_stack([model.trans, model.stop])
    return {"start": model.start[None].copy(), "trans": trans.copy(), "emit": model.emit.copy()}


def _from_rows(rows: dict[str, np.ndarray], has_stop: bool) -> hmm.HMM:
    K = rows["start"].shape[1]
    trans, stop = (rows["trans"][:, :K], rows["trans"][:, K]) if has_stop else (rows["trans"], None)
    return hmm.HMM(rows["start"][0], trans, rows["emit"], stop)


def set_parameter(model: hmm.HMM, name: str, row: int, col: int, value) -> hmm.HMM:
    """A new model with one probability set to ``value`` and the rest of its row rescaled.

    ``name`` is ``"start"`` (row 0, column = state), ``"trans"`` (row = from-state, column =
    to-state, or ``K`` for STOP) or ``"emit"`` (row = state, column = symbol). The row stays a
    categorical: the *other* entries of the row are multiplied by ``(1 − value) / (their sum)``,
    so the value typed is the value kept. Raises ``ValueError`` (the message is shown to the
    reader, and the model is left as it was) for a value that is not a number in ``[0, 1]``, for
    ``value < 1`` in a row whose other entries are all 0 (nothing to rescale), and for a cell
    that does not exist; ``TypeError`` when ``model`` is not an :class:`emlab.hmm.HMM`.
    """
    check_instance("model", model, hmm.HMM, "an emlab.hmm.HMM")
    rows = _rows(model)
    if not isinstance(name, str) or name not in rows:
        raise ValueError(f"name must be one of {PARAMETER_ROWS}, got {name!r}")
    table = rows[name]
    given = (row, col)
    row = check_scalar("row", row, low=0, integer=True)
    col = check_scalar("col", col, low=0, integer=True)
    for arg, index, size in (("row", row, table.shape[0]), ("col", col, table.shape[1])):
        if index >= size:
            raise ValueError(f"{name} has no entry ({given[0]!r}, {given[1]!r}): its shape is {table.shape}, "
                             f"so {arg} must be from 0 to {size - 1}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"value must be a number from 0 to 1 (a probability), got {value!r}") from None
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f"value must be a probability, between 0 and 1, got {v:g}")
    others = np.delete(table[row], col)
    rest = float(others.sum())
    if rest == 0.0 and v < 1.0:
        raise ValueError(f"the other entries of this row are all 0, so the row cannot sum to 1 with "
                         f"{v:g} here; raise another entry of the row first")
    table[row] = np.insert(others * ((1.0 - v) / rest) if rest > 0 else others, col, v)
    return _from_rows(rows, model.stop is not None)


def parse_diary(text: str, V: int = 3) -> np.ndarray:
    """``"2332"`` → ``array([1, 2, 2, 1])``: one digit per day, ``1..V`` (spaces and commas ignored).

    Raises ``ValueError`` naming the first character that is not a count ``1..V``, for an empty
    diary and for more than :data:`MAX_DAYS` days; ``TypeError`` when ``text`` is not a str. ``V`` must
    be a whole number ≥ 1.
    """
    V = check_scalar("V", V, low=1, integer=True)
    if not isinstance(text, str):
        raise TypeError(f"text must be the diary as a string of digits, got {type(text).__name__}")
    digits = [ch for ch in text if ch not in " ,\t\n"]
    if not digits:
        raise ValueError(f"the diary text is empty: type one count (1 to {V}) per day")
    for i, ch in enumerate(digits):
        if not (ch.isdigit() and 1 <= int(ch) <= V):
            raise ValueError(f"day {i + 1} of the diary text: {ch!r} is not an ice-cream count from 1 "
                             f"to V={V}")
    if len(digits) > MAX_DAYS:
        raise ValueError(f"the diary text has {len(digits)} days; the spreadsheet shows at most {MAX_DAYS}")
    return np.array([int(ch) - 1 for ch in digits], dtype=np.intp)


def format_diary(diary) -> str:
    """The inverse of :func:`parse_diary`: symbols → ``"2332…"``.

    Raises ``TypeError``/``ValueError`` naming ``diary`` unless it is a 1-D sequence of symbols ≥ 0."""
    if isinstance(diary, (str, bytes)):
        raise TypeError("diary must be a 1-D sequence of integer symbols, got str (parse_diary reads text)")
    try:
        x = np.asarray(diary)
    except ValueError:                          # ragged nesting
        raise ValueError("diary must be a 1-D sequence of integer symbols, got nested lists") from None
    if x.ndim != 1:
        raise ValueError(f"diary must be a 1-D sequence of integer symbols, got shape {x.shape}")
    if x.size == 0:
        return ""
    whole = x.dtype.kind == "f" and bool(np.all(np.isfinite(x))) and bool(np.all(x == np.round(x)))
    if x.dtype.kind not in "iu" and not whole:
        raise TypeError(f"diary must hold integer symbols, got dtype {x.dtype}")
    if (x < 0).any():
        i = int(np.flatnonzero(x < 0)[0])
        raise ValueError(f"day {i + 1} of the diary has the negative symbol {x[i]}")
    return "".join(str(int(v) + 1) for v in x)


def set_day(diary, day: int, count: int, V: int = 3) -> np.ndarray:
    """A new diary with day ``day`` (1-based) set to ``count`` ice creams (``1..V``).

    ``diary`` must be a non-empty 1-D sequence of symbols ``0..V-1``; each argument is checked and a
    mistake reported naming it."""
    V = check_scalar("V", V, low=1, integer=True)
    x = check_symbols(f"diary (with V={V})", diary, V).copy()
    if isinstance(day, bool) or not isinstance(day, (int, np.integer)) or not 1 <= day <= len(x):
        raise ValueError(f"day must be an integer from 1 to {len(x)}, got {day!r}")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 1 <= count <= V:
        raise ValueError(f"count must be an integer from 1 to {V} ice creams, got {count!r}")
    x[day - 1] = count - 1
    return x
