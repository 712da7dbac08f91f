"""The MLE of categoricals derived with Lagrange multipliers, in SymPy (notebook 01).

Maximize the log-likelihood of counts ``c_1..c_K`` (all positive)

    ℓ(θ) = Σ_k c_k log θ_k     subject to   Σ_k θ_k = 1

through the Lagrangian

    Λ(θ, λ) = Σ_k c_k log θ_k − λ (Σ_k θ_k − 1).

Setting ∂Λ/∂θ_k = c_k/θ_k − λ = 0 gives θ_k = c_k/λ; the constraint ∂Λ/∂λ = 0 then forces
λ = Σ_k c_k = N, so θ_k = c_k / N. Every function below builds these expressions and lets
SymPy solve them, rather than writing the answer down. A product of categoricals (a bigram
model, an HMM's ``q`` and ``e`` rows, a PCFG's rules per left-hand side) has one constraint,
hence one multiplier, per distribution, and the solution is one normalization per
distribution (:func:`product_categorical_mle`).

Reference: Dan Klein, "Lagrange Multipliers without Permanent Scarring" (the lecture's
recommended reading); notebook 01 walks through this module.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence
from functools import cache

import sympy as sp

from .validation import check_bool, check_positive_int, naming

#: The largest number of outcomes the solving functions accept: SymPy's ``solve`` and the
#: symbolic determinants grow much faster than K³ (K = 12 takes seconds, K = 24 half a minute,
#: larger K would look like a hang). The derivations are for small K.
MAX_K = 12

__all__ = [
    "symbols", "lagrangian", "stationarity_equations", "stationary_point", "categorical_mle",
    "product_categorical_mle", "bordered_hessian", "hessian_at_stationary_point", "is_maximum",
    "bordered_minors_show_maximum",
]


def _check_k(K, limit: int | None = MAX_K) -> int:
    if not (isinstance(K, numbers.Integral) and not isinstance(K, bool) and K >= 1):
        raise ValueError(f"K must be a positive integer (the number of outcomes), got {K!r}")
    if limit is not None and K > limit:
        raise ValueError(f"K must be at most {limit} for a symbolic derivation (SymPy's solve slows down "
                         f"steeply), got {K}")
    return check_positive_int("K", K)


def symbols(K: int, name: str | None = None, positive: bool = False):
    """``(theta, c, lam)``: the parameters ``theta_1..theta_K``, counts ``c_1..c_K`` and the
    multiplier ``lambda``. With ``name`` the symbols are ``theta_<name>_k``, ``c_<name>_k``,
    ``lambda_<name>`` (one family per distribution of a product).

    The contract's symbols carry no assumptions (``sympy.Symbol("theta_1")`` finds them);
    ``positive=True`` gives positive ones, used for sign decisions in :func:`is_maximum`.
    """
    _check_k(K, limit=1000)
    positive = check_bool("positive", positive)
    if name is not None and not (isinstance(name, str) and re.fullmatch(r"\w+", name)):
        raise ValueError(f"name must be letters, digits or underscores, got {name!r}")
    tag = f"_{name}" if name is not None else ""
    assume = {"positive": True} if positive else {}
    theta = [sp.Symbol(f"theta{tag}_{k}", **assume) for k in range(1, K + 1)]
    c = [sp.Symbol(f"c{tag}_{k}", **assume) for k in range(1, K + 1)]
    lam = sp.Symbol(f"lambda{tag}", **assume)
    return tuple(theta), tuple(c), lam


def lagrangian(K: int, positive: bool = False) -> sp.Expr:
    """``Σ_k c_k log θ_k − λ (Σ_k θ_k − 1)`` (notebook 01, the Lagrangian)."""
    theta, c, lam = symbols(K, positive=positive)
    return _lagrangian(theta, c, lam)


def _lagrangian(theta, c, lam) -> sp.Expr:
    return sum(ck * sp.log(tk) for ck, tk in zip(c, theta, strict=True)) - lam * (sum(theta) - 1)


def stationarity_equations(K: int) -> list[sp.Expr]:
    """The first-order conditions: ``∂Λ/∂θ_k = c_k/θ_k − λ`` for every k and
    ``∂Λ/∂λ = −(Σ_k θ_k − 1)``, each to be set to zero."""
    theta, c, lam = symbols(K)
    L = _lagrangian(theta, c, lam)
    return [sp.diff(L, v) for v in (*theta, lam)]


def _solve_stationary(theta, c, lam) -> dict:
    L = _lagrangian(theta, c, lam)
    eqs = [sp.diff(L, v) for v in (*theta, lam)]
    sols = sp.solve(eqs, [*theta, lam], dict=True)
    if len(sols) != 1:
        raise RuntimeError(f"expected one stationary point, SymPy found {len(sols)}: {sols}")
    return {v: sp.simplify(sols[0][v]) for v in (*theta, lam)}


def stationary_point(K: int) -> dict:
    """Solve the stationarity equations: ``{theta_k: c_k / N, lambda: N}`` with
    ``N = c_1 + … + c_K``. The multiplier equals the total count. (Solved once per K and
    cached; each call returns a fresh dict.)"""
    return dict(_stationary_point(_check_k(K)))


@cache
def _stationary_point(K: int) -> tuple:
    theta, c, lam = symbols(K)
    return tuple(_solve_stationary(theta, c, lam).items())


def categorical_mle(K: int) -> dict:
    """The contract: ``{theta_k: c_k / (c_1 + … + c_K)}`` for ``k = 1..K``, found by solving
    the Lagrangian's stationarity equations (notebook 01)."""
    theta, _, _ = symbols(_check_k(K))
    sol = stationary_point(K)
    return {t: sol[t] for t in theta}


def product_categorical_mle(sizes: Mapping[str, int] | Sequence[int]) -> dict:
    """MLE of a product of categoricals, one Lagrange multiplier per distribution.

    ``sizes`` maps a distribution's name to its number of outcomes, e.g.
    ``{"after_the": 3, "after_a": 3}`` for two rows of a bigram model, or
    ``{"q_H": 3, "q_C": 3, "e_H": 3, "e_C": 3}`` for an HMM's transition and emission rows;
    a plain list of sizes names the distributions ``"1"``, ``"2"``, …

    The joint Lagrangian ``Σ_d Σ_k c_dk log θ_dk − Σ_d λ_d (Σ_k θ_dk − 1)`` is solved in one
    call. Returns ``{name: {theta_<name>_k: c_<name>_k / Σ_j c_<name>_j, …,
    lambda_<name>: Σ_j c_<name>_j}}``: each distribution is normalized by *its own* total.
    """
    if isinstance(sizes, Mapping):
        items = list(sizes.items())
    elif isinstance(sizes, Sequence) and not isinstance(sizes, (str, bytes)):
        items = [(str(i + 1), k) for i, k in enumerate(sizes)]
    else:
        raise TypeError(f"sizes must map names to numbers of outcomes (or list them), "
                        f"got {type(sizes).__name__}")
    if not items:
        raise ValueError("sizes is empty: give at least one distribution")
    families = {}
    for name, k in items:
        if not (isinstance(name, str) and re.fullmatch(r"\w+", name)):
            raise ValueError(f"distribution name {name!r} must be letters, digits or underscores")
        with naming("sizes"):
            families[name] = symbols(_check_k(k), name=name)
    total = sum(len(theta) for theta, _, _ in families.values())
    if total > 2 * MAX_K:
        raise ValueError(f"sizes has {total} outcomes in all; a joint symbolic solve takes at most "
                         f"{2 * MAX_K}")
    L = sum(_lagrangian(*fam) for fam in families.values())
    unknowns = [v for theta, _, lam in families.values() for v in (*theta, lam)]
    eqs = [sp.diff(L, v) for v in unknowns]
    sols = sp.solve(eqs, unknowns, dict=True)
    if len(sols) != 1:
        raise RuntimeError(f"expected one stationary point, SymPy found {len(sols)}")
    return {name: {v: sp.simplify(sols[0][v]) for v in (*theta, lam)}
            for name, (theta, _, lam) in families.items()}


def hessian_at_stationary_point(K: int) -> sp.Matrix:
    """Hessian of the Lagrangian in θ at the stationary point, with positive counts:
    ``diag(−c_k / θ_k²) = diag(−N² / c_k)``; negative definite, so the objective is concave."""
    theta, c, lam = symbols(_check_k(K), positive=True)
    L = _lagrangian(theta, c, lam)
    H = sp.hessian(L, theta)
    sol = _solve_stationary(theta, c, lam)
    return sp.simplify(H.subs(sol))


def bordered_hessian(K: int, at_stationary_point: bool = True) -> sp.Matrix:
    """The bordered Hessian ``[[0, ∇gᵀ], [∇g, ∇²_θ Λ]]`` with constraint ``g(θ) = Σ_k θ_k − 1``
    (positive symbols). At the stationary point (the default) ``θ_k = c_k / λ`` from
    ``∂Λ/∂θ_k = 0``, where λ = N > 0 is kept as a symbol so the entries stay short:
    ``∂²Λ/∂θ_k² = −λ² / c_k``."""
    theta, c, lam = symbols(_check_k(K), positive=True)
    at_stationary_point = check_bool("at_stationary_point", at_stationary_point)
    L = _lagrangian(theta, c, lam)
    g = sum(theta) - 1
    grad = sp.Matrix([[sp.diff(g, t) for t in theta]])
    B = sp.zeros(K + 1, K + 1)
    B[0, 1:] = grad
    B[1:, 0] = grad.T
    B[1:, 1:] = sp.hessian(L, theta)
    if at_stationary_point:
        first_order = sp.solve([sp.diff(L, t) for t in theta], theta, dict=True)[0]
        B = B.subs(first_order).applyfunc(sp.simplify)
    return B


def is_maximum(K: int) -> bool:
    """Second-order check that the stationary point of the categorical MLE is a constrained
    **maximum**: :func:`bordered_minors_show_maximum` applied to :func:`bordered_hessian`.
    (For K = 1 the simplex is one point, trivially the maximum.)"""
    if _check_k(K) == 1:
        return True
    return bordered_minors_show_maximum(bordered_hessian(K))


def bordered_minors_show_maximum(B: sp.Matrix, n_constraints: int = 1) -> bool:
    """The bordered-Hessian test for a constrained maximum.

    With n variables and m constraints (``B`` is (m + n) × (m + n), border first), a
    maximum needs the last n − m leading principal minors, of orders 2m + 1 .. m + n, to
    alternate in sign, the minor of order m + j having sign ``(−1)^j``. Each sign must be
    *proven* by SymPy from the symbols' assumptions (use positive symbols); an undecided sign
    gives ``False``.
    """
    if not isinstance(B, sp.MatrixBase) or B.shape[0] != B.shape[1]:
        raise TypeError(f"B must be a square SymPy Matrix (the bordered Hessian), got {type(B).__name__}")
    m = check_positive_int("n_constraints", n_constraints)
    if B.shape[0] <= 2 * m:
        raise ValueError(f"n_constraints={m} leaves B (of size {B.shape[0]}) no variables beyond its "
                         f"border: B must be larger than {2 * m} x {2 * m}")
    n = B.shape[0] - m
    for j in range(m + 1, n + 1):
        signed = sp.factor((-1) ** j * B[: m + j, : m + j].det(method="berkowitz"))
        if signed.is_positive is not True:
            return False
    return True
