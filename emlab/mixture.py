"""Mixture models: the smallest EM problems (notebooks 02 and 07).

:class:`CategoricalMixture`
    A mixture of categoricals, i.e. unsupervised naive Bayes over count vectors
    (notebook 02). An item is a count vector ``x`` over ``V`` symbols; its hidden variable is
    the component ``z``::

        p(x, z = k) = π_k Π_v θ_kv^{x_v}          p(x) = Σ_k π_k Π_v θ_kv^{x_v}

    The parameters are two categoricals, ``weights`` π (K,) and ``probs`` θ (K, V), so the
    expected counts have the same shapes and the M-step is :func:`emlab.categorical.normalize`.
    The two-coins problem of Do & Batzoglou (2008) is the case V = 2 (heads, tails):
    :func:`two_coins_example`.

:class:`GaussianMixture`
    A spherical Gaussian mixture. Its hard EM with equal fixed weights and one shared fixed
    variance *is* k-means (Lloyd's algorithm): the hard E-step ``argmax_k log π_k −
    ||x − μ_k||² / 2σ²`` is the nearest centre, the M-step is the mean of the assigned
    points (notebook 07). :func:`lloyd_step` and :func:`kmeans` are the classical algorithm,
    for the side-by-side comparison.

Both implement the :class:`emlab.em.EMModel` protocol and the hooks of :func:`emlab.em.e_step`
(one batch: the whole data; the chart is the ``(N, K)`` table of ``log p(x_n, z = k)``), so
:func:`emlab.em.fit` drives them with ``method="soft"``, ``"hard"`` or ``"stochastic"``.

Layout, as in :mod:`emlab.hmm` and :mod:`emlab.pcfg`: the model classes (validation,
initializations, the EMModel protocol, hooks) → the shipped example → k-means → the public
functions. Sizes: ``K`` components, ``V`` symbols (categorical), ``D`` dimensions (Gaussian).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import em
from .categorical import normalize
from .data.coins import COINS_FLIPS, COINS_HEADS, COINS_REPORTED, COINS_START
from .semiring import MAX, SUM, Semiring, check_semiring
from .validation import (
    as_generator,
    check_array,
    check_bool,
    check_counts,
    check_elements,
    check_instance,
    check_numbers,
    check_positive_int,
    check_scalar,
    check_stochastic,
)

__all__ = [
    "CategoricalMixture", "GaussianMixture", "KMeansResult", "log_likelihood", "posteriors",
    "sample", "two_coins_example", "lloyd_step", "kmeans", "TWO_COINS_REPORTED",
]


# ---------------------------------------------------------------------------------------------
# helpers


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """``log Σ_k exp(a[n, k])`` per row, exact for rows that are all ``-inf`` (gives ``-inf``)."""
    top = a.max(axis=1)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return shift + np.log(np.exp(a - shift[:, None]).sum(axis=1))


def _safe_log(p: np.ndarray) -> np.ndarray:
    """``log p`` with ``log 0 = -inf`` and no RuntimeWarning."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.flags.writeable = False
    return a


def _raise_if_impossible(item_ll: np.ndarray) -> None:
    bad = np.flatnonzero(~np.isfinite(item_ll))
    if bad.size:
        raise ValueError(f"item {int(bad[0])} has probability zero under the model, so its posterior "
                         "is undefined")


class MixtureChart:
    """The chart of a mixture: ``joint[n, k] = log p(x_n, z = k)`` and ``log_evidence[n] = log p(x_n)``.
    Every semiring reads the same ``K`` numbers per item, so ``log_evidence`` is always the sum's."""

    semiring = SUM

    def __init__(self, joint: np.ndarray):
        self.joint = joint
        self.log_evidence = _logsumexp_rows(joint)

    def posteriors(self) -> np.ndarray:
        """Responsibilities ``r[n, k] = p(z = k | x_n) = exp(joint[n, k] − log p(x_n))``, computed
        as ``w = exp(joint[n, k] − max_j joint[n, j])``, ``r[n, k] = w[n, k] / Σ_j w[n, j]``: the
        same numbers, but every row sums to 1 even when ``|joint|`` is so large (~1e17) that
        ``log p(x_n)`` has lost the ``log K`` a tie contributes. A row of ``-inf`` (an impossible
        item) gives NaN; callers refuse such items first (:func:`_raise_if_impossible`)."""
        top = self.joint.max(axis=1)
        shift = np.where(np.isfinite(top), top, 0.0)
        w = np.exp(self.joint - shift[:, None])
        with np.errstate(invalid="ignore", divide="ignore"):
            return w / w.sum(axis=1, keepdims=True)


class _Mixture:
    """What both mixtures share: the hooks of :func:`emlab.em.e_step` over ``joint_log_probs`` and
    the model's ``_counts(X, r)`` of responsibilities ``r`` (N, K)."""

    def e_step(self, X: np.ndarray, method: str = "soft", rng=None) -> em.EStep:
        """:func:`emlab.em.e_step` of this model. Soft: posterior-weighted counts; hard: each item
        counts for its best component (ties to the lowest index), objective
        ``Σ_n max_k log p(x_n, z = k)``; stochastic: a component drawn from the posterior."""
        return em.e_step(self, X, method, rng)

    # -- hooks of em.e_step
    def batches(self, X: np.ndarray) -> list[np.ndarray]:
        return [X]

    def chart(self, X: np.ndarray, semiring: Semiring = SUM) -> MixtureChart:
        check_semiring(semiring)                 # (both semirings read this one chart)
        return MixtureChart(self.joint_log_probs(X))

    def posterior_counts(self, X: np.ndarray, chart: MixtureChart) -> dict[str, np.ndarray]:
        return self._counts(X, chart.posteriors())

    def best(self, X: np.ndarray, chart: MixtureChart) -> tuple[np.ndarray, np.ndarray]:
        z = MAX.choose(chart.posteriors(), None)      # the argmax of p(x, z) over z
        return z, chart.joint[np.arange(len(z)), z]

    def sampled(self, X: np.ndarray, chart: MixtureChart, rng: np.random.Generator) -> np.ndarray:
        return SUM.choose(chart.posteriors(), rng)

    def structure_counts(self, X: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
        r = np.zeros((X.shape[0], self.K))
        r[np.arange(X.shape[0]), z] = 1.0
        return self._counts(X, r)

    def impossible_item(self, X: np.ndarray, batch, i: int) -> str:
        return f"item {i} has probability zero under the model"

    # -- queries
    def item_log_likelihoods(self, data) -> np.ndarray:
        """``log p(x_n)`` for every item (``-inf`` for an impossible item)."""
        return self.chart(self.prepare(data)).log_evidence

    def posteriors(self, data) -> np.ndarray:
        """``r[n, k] = p(z = k | x_n)``, shape (N, K); raises ``ValueError`` for an item of
        probability zero."""
        chart = self.chart(self.prepare(data))
        _raise_if_impossible(chart.log_evidence)
        return chart.posteriors()

    @property
    def n_components(self) -> int:
        """``K``, the number of components."""
        return self.weights.shape[0]

    @property
    def K(self) -> int:
        """Number of components."""
        return self.weights.shape[0]


# ---------------------------------------------------------------------------------------------
# mixture of categoricals


def _check_sizes(K, V) -> tuple[int, int]:
    """``K`` components over ``V`` symbols, as ints, their ``K × (V + 1)`` parameters within
    :data:`~emlab.validation.MAX_ELEMENTS`."""
    K, V = check_positive_int("K", K), check_positive_int("V", V)
    check_elements("K and V", K * (V + 1), "K × (V + 1) parameters")
    return K, V


class CategoricalMixture(_Mixture):
    """A mixture of ``K`` categoricals over ``V`` symbols (unsupervised naive Bayes).

    Parameters
    ----------
    weights : array_like, shape (K,)
        Mixing weights π_k = p(z = k); sums to 1.
    probs : array_like, shape (K, V)
        ``probs[k, v] = θ_kv = p(symbol v | component k)``; every row sums to 1.
    learn_weights : bool
        When false the M-step keeps ``weights`` fixed (Do & Batzoglou's two coins pick a
        coin with a fixed probability 1/2).

    Notes
    -----
    The data are an (N, V) matrix of non-negative integer counts (or a list of count
    vectors): item ``n`` saw symbol ``v`` ``X[n, v]`` times. The log-likelihood of an item is

        log p(x) = log Σ_k π_k Π_v θ_kv^{x_v},

    the probability of the *token sequence*: the multinomial coefficient ``(Σ_v x_v)! /
    Π_v x_v!`` is omitted. It does not depend on the parameters, so posteriors, EM and
    every comparison between models are unchanged by it.

    ``weights`` and ``probs`` are validated, copied and made read-only (as in every model).
    """

    def __init__(self, weights, probs, learn_weights: bool = True):
        w = check_stochastic("weights", weights, ndim=1)
        p = check_stochastic("probs", probs, ndim=2)
        if w.size == 0 or p.shape[1] == 0:
            raise ValueError(f"a mixture needs at least one component and one symbol, got weights "
                             f"{w.shape} and probs {p.shape}")
        if p.shape[0] != w.shape[0]:
            raise ValueError(f"probs has {p.shape[0]} rows but weights has {w.shape[0]} components")
        self.weights, self.probs = _frozen(w), _frozen(p)
        self.learn_weights = check_bool("learn_weights", learn_weights)

    # --- constructors ---------------------------------------------------------------------
    @classmethod
    def random(cls, K: int, V: int, rng=None, learn_weights: bool = True) -> CategoricalMixture:
        """Weights and every row of ``probs`` drawn from a flat Dirichlet with ``rng``."""
        K, V = _check_sizes(K, V)
        g = as_generator(rng)
        return cls(g.dirichlet(np.ones(K)), g.dirichlet(np.ones(V), size=K), learn_weights)

    @classmethod
    def uniform(cls, K: int, V: int, learn_weights: bool = True) -> CategoricalMixture:
        """All components identical and uniform: a symmetric fixed point EM never leaves
        (notebook 06)."""
        K, V = _check_sizes(K, V)
        return cls(np.full(K, 1.0 / K), np.full((K, V), 1.0 / V), learn_weights)

    @property
    def V(self) -> int:
        """Number of symbols."""
        return self.probs.shape[1]

    @property
    def n_symbols(self) -> int:
        """``V``, the number of symbols."""
        return self.probs.shape[1]

    def __repr__(self) -> str:
        return (f"CategoricalMixture(weights={np.array2string(self.weights, precision=4)}, "
                f"probs={np.array2string(self.probs, precision=4)})")

    # --- the EMModel protocol -------------------------------------------------------------
    def prepare(self, data) -> np.ndarray:
        """Validate the data: an (N, V) non-negative integer count matrix, N ≥ 1."""
        X = check_array("X", data)
        if X.ndim == 1 and X.size == self.n_symbols:
            X = X[None, :]
        if X.ndim != 2:
            raise ValueError(f"X must be an (N, V) count matrix, got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X is empty: give at least one count vector")
        if X.shape[1] != self.n_symbols:
            raise ValueError(f"X has {X.shape[1]} columns but the model has V = {self.n_symbols} symbols")
        frac = np.argwhere(X != np.round(X))
        if frac.size:
            n, v = (int(i) for i in frac[0])
            raise ValueError(f"X item {n} has a non-integer count {float(X[n, v])!r} for symbol {v}")
        return X

    def joint_log_probs(self, X: np.ndarray) -> np.ndarray:
        """``J[n, k] = log p(x_n, z = k) = log π_k + Σ_v x_nv log θ_kv`` (``-inf`` when a symbol
        seen in ``x_n`` has probability zero in component ``k``)."""
        logp = np.where(self.probs > 0, _safe_log(self.probs), 0.0)
        joint = X @ logp.T + _safe_log(self.weights)[None, :]
        impossible = ((X > 0).astype(float) @ (self.probs == 0).astype(float).T) > 0
        return np.where(impossible, -np.inf, joint)

    def _counts(self, X: np.ndarray, r: np.ndarray) -> dict[str, np.ndarray]:
        """Expected counts ``{"weights": Σ_n r_n (K,), "probs": Σ_n r_n x_nᵀ (K, V)}``."""
        return {"weights": r.sum(axis=0), "probs": r.T @ X}

    def m_step(self, counts: dict[str, np.ndarray]) -> CategoricalMixture:
        """Normalize each categorical (notebook 01); all-zero rows keep their previous values."""
        check_counts(counts, ("weights", "probs"))
        weights = normalize(counts["weights"], previous=self.weights) if self.learn_weights else self.weights
        probs = normalize(counts["probs"], previous=self.probs)
        return CategoricalMixture(weights, probs, self.learn_weights)

    def params(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "probs": self.probs}

    def sample(self, n: int, size, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` items of ``size`` tokens each (an int, or one int per item): returns the
        (n, V) integer counts and the (n,) true components."""
        check_positive_int("n", n)
        check_elements("n", n * (self.V + 1), "n × (V + 1)")
        sizes = np.asarray(size)
        if sizes.ndim > 1 or sizes.size not in (1, n):
            raise ValueError(f"size must be one integer or one per item ({n}), got shape {sizes.shape}")
        sizes = np.broadcast_to(sizes.reshape(-1), (n,))
        if not np.issubdtype(sizes.dtype, np.integer) or (sizes < 0).any():
            raise ValueError(f"size must be a non-negative integer (or one per item), got {size!r}")
        g = as_generator(rng)
        z = g.choice(self.n_components, size=n, p=self.weights)
        X = np.stack([g.multinomial(int(sizes[i]), self.probs[z[i]]) for i in range(n)])
        return X, z


def two_coins_example() -> tuple[np.ndarray, CategoricalMixture]:
    """Do & Batzoglou's two coins (:mod:`emlab.data.coins`) as counts and a starting model.


    Do & Batzoglou (2008), "What is the expectation maximization algorithm?", Nature
    Biotechnology 26:897, figure 1b. Five trials of ten flips of one of two coins A and B (which
    one is hidden), with 5, 9, 8, 4 and 7 heads. Returns the (5, 2) counts ``[heads, tails]``
    and the paper's starting model θ_A = 0.6, θ_B = 0.5, each coin picked with fixed probability
    1/2 (``learn_weights=False``). The paper reports θ_A ≈ 0.71, θ_B ≈ 0.58 after one EM
    iteration and θ_A ≈ 0.80, θ_B ≈ 0.52 after ten (:data:`TWO_COINS_REPORTED`).
    """
    X = np.stack([COINS_HEADS, COINS_FLIPS - COINS_HEADS], axis=1)
    probs = [[theta, 1 - theta] for theta in COINS_START]
    return X, CategoricalMixture([0.5, 0.5], probs, learn_weights=False)


#: The published figures of Do & Batzoglou (2008), fig. 1b: iteration -> (θ_A, θ_B), 2 decimals
#: (the same object as :data:`emlab.data.coins.COINS_REPORTED`).
TWO_COINS_REPORTED = COINS_REPORTED


# ---------------------------------------------------------------------------------------------
# spherical Gaussian mixture and k-means


#: Largest coordinate magnitude a point may have: squared distances of such points stay finite.
MAX_COORDINATE = 1e150


def _check_points(name: str, value) -> np.ndarray:
    """Real-valued points (N, D): any sign, finite, at most :data:`MAX_COORDINATE` in magnitude."""
    try:
        X = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers: {exc}") from None
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name} must be an (N, D) array of points, got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: give at least one point")
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        n = int(bad[0][0])
        what = "NaN" if np.isnan(X[tuple(bad[0])]) else "an infinite value"
        raise ValueError(f"{name} point {n} contains {what}")
    huge = np.argwhere(np.abs(X) > MAX_COORDINATE)
    if huge.size:
        raise ValueError(f"{name} point {int(huge[0][0])} has a coordinate beyond ±{MAX_COORDINATE:g}: "
                         "squared distances would overflow; rescale the data")
    return X


class GaussianMixture(_Mixture):
    """A spherical Gaussian mixture ``p(x) = Σ_k π_k N(x; μ_k, σ_k² I)`` in ``D`` dimensions.

    Parameters
    ----------
    weights : array_like (K,), sums to 1.
    means : array_like (K, D).
    variance : float (one variance shared by all components) or array_like (K,).
    learn_weights, learn_variance : bool
        Whether the M-step re-estimates them. With ``learn_weights=False``,
        ``learn_variance=False``, equal weights and a shared variance, **hard EM is k-means**
        (Lloyd): see :meth:`kmeans_equivalent`.
    min_variance : float > 0 (required positive)
        Variances are kept ≥ this (a constrained M-step, still monotone), so a component that
        shrinks onto one point cannot send the likelihood to infinity; 0 would allow exactly that
        (an unbounded likelihood, then NaN), so it is refused with a ``ValueError``. A learned
        ``variance`` must start ≥ ``min_variance`` (``ValueError`` otherwise): the monotonicity
        holds inside that set, and a start below it would lose likelihood at the first M-step.

    ``weights``, ``means`` and ``variance`` are validated, copied and made read-only.

    The expected sufficient statistics (``e_step(...).counts``) are ``{"weights": Σ_n r_nk (K,),
    "means": Σ_n r_nk x_n (K, D), "sq": Σ_n r_nk ||x_n||² (K,)}``. A component that receives
    no points keeps its previous mean and variance (and gets weight 0 if weights are learned).

    Its means and variances are not categoricals (``categorical_params = False``), so what needs a
    product of categoricals (stepwise and incremental EM, ``priors.MAP``, L-BFGS and gradient ascent
    over softmax logits, the free energy's ``Σ c log θ``) refuses it with a ``TypeError``.
    """

    categorical_params = False

    def __init__(self, weights, means, variance=1.0, learn_weights: bool = True,
                 learn_variance: bool = True, min_variance: float = 1e-6):
        w = check_stochastic("weights", weights, ndim=1)
        try:
            mu = np.asarray(means, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"means must be an array of numbers: {exc}") from None
        if mu.ndim != 2 or mu.shape[0] != w.shape[0] or mu.shape[1] == 0:
            raise ValueError(f"means must have shape ({w.shape[0]}, D) to match weights, got {mu.shape}")
        if not np.all(np.isfinite(mu)):
            k = int(np.argwhere(~np.isfinite(mu))[0][0])
            raise ValueError(f"means row {k} is not finite")
        var = check_array("variance", variance)
        if var.ndim > 1 or (var.ndim == 1 and var.shape != w.shape):
            raise ValueError(f"variance must be a number or have shape {w.shape}, got {var.shape}")
        if np.any(var <= 0):
            raise ValueError(f"variance must be positive, got {variance!r}")
        try:
            min_variance = check_scalar("min_variance", min_variance, low=0, low_open=True)
        except (TypeError, ValueError):
            raise ValueError(f"min_variance must be a positive number, got {min_variance!r}") from None
        self.weights, self.means, self.variance = _frozen(w), _frozen(mu), _frozen(var)
        self.learn_weights = check_bool("learn_weights", learn_weights)
        self.learn_variance = check_bool("learn_variance", learn_variance)
        self.min_variance = float(min_variance)
        if self.learn_variance and np.any(var < self.min_variance):
            raise ValueError(f"variance {float(np.min(var)):.3g} is below min_variance = "
                             f"{self.min_variance:.3g}: start inside the set the M-step keeps to "
                             "(variance >= min_variance), or its first step would lower the likelihood "
                             "(lower min_variance or raise the variance)")

    @classmethod
    def kmeans_equivalent(cls, centres, variance: float = 1.0) -> GaussianMixture:
        """The mixture whose hard EM is Lloyd's k-means from ``centres``: equal fixed weights,
        one fixed shared variance (its value does not matter)."""
        mu = _check_points("centres", centres)
        k = mu.shape[0]
        return cls(np.full(k, 1.0 / k), mu, variance, learn_weights=False, learn_variance=False)

    @classmethod
    def from_data(cls, X, K: int, rng=None, **kwargs) -> GaussianMixture:
        """Means at ``K`` distinct data points chosen with ``rng``, equal weights, the data's
        per-dimension variance averaged over dimensions."""
        X = _check_points("X", X)
        check_positive_int("K", K)
        if K > X.shape[0]:
            raise ValueError(f"K = {K} components need at least {K} points, X has {X.shape[0]}")
        g = as_generator(rng)
        idx = g.choice(X.shape[0], size=K, replace=False)
        var = max(float(X.var(axis=0).mean()), 1e-3)
        return cls(np.full(K, 1.0 / K), X[idx].copy(), var, **kwargs)

    @property
    def D(self) -> int:
        """Number of dimensions."""
        return self.means.shape[1]

    @property
    def dim(self) -> int:
        """``D``, the number of dimensions."""
        return self.means.shape[1]

    def __repr__(self) -> str:
        return (f"GaussianMixture(weights={np.array2string(self.weights, precision=4)}, "
                f"means={np.array2string(self.means, precision=4)}, variance={self.variance})")

    def _replace(self, weights, means, variance) -> GaussianMixture:
        return GaussianMixture(weights, means, variance, self.learn_weights, self.learn_variance,
                               self.min_variance)

    # --- the EMModel protocol -------------------------------------------------------------
    def prepare(self, data) -> np.ndarray:
        X = _check_points("X", data)
        if X.shape[1] != self.dim:
            raise ValueError(f"X has {X.shape[1]} dimensions but the model's means have D = {self.dim}")
        return X

    def sq_distances(self, X: np.ndarray) -> np.ndarray:
        """``||x_n − μ_k||²``, shape (N, K)."""
        diff = X[:, None, :] - self.means[None, :, :]
        return np.einsum("nkd,nkd->nk", diff, diff)

    def joint_log_probs(self, X: np.ndarray) -> np.ndarray:
        """``log π_k + log N(x_n; μ_k, σ_k² I) = log π_k − D/2 log(2π σ_k²) − ||x_n − μ_k||² / 2σ_k²``."""
        var = np.broadcast_to(self.variance, (self.n_components,))
        # log(2π) + log σ² rather than log(2π σ²): the product overflows for σ² near 1e308
        log_norm = 0.5 * self.dim * (np.log(2 * np.pi) + np.log(var))
        return (_safe_log(self.weights)[None, :] - log_norm[None, :]
                - self.sq_distances(X) / 2 / var[None, :])

    def _counts(self, X: np.ndarray, r: np.ndarray) -> dict[str, np.ndarray]:
        """Responsibility-weighted sufficient statistics ``{"weights": Σ_n r_nk, "means":
        Σ_n r_nk x_n, "sq": Σ_n r_nk ||x_n||²}`` (hard EM: each point for its nearest component
        in the ``log π_k + log N`` sense)."""
        return {"weights": r.sum(axis=0), "means": r.T @ X, "sq": r.T @ np.einsum("nd,nd->n", X, X)}

    def m_step(self, counts: dict[str, np.ndarray]) -> GaussianMixture:
        """``μ_k = Σ r x / Σ r``; ``σ² = Σ r ||x − μ||² / (D Σ r)`` (pooled over components when
        shared); ``π = normalize(Σ r)``. Components with ``Σ r = 0`` keep mean and variance."""
        check_counts(counts, ("weights", "means", "sq"))
        K, D = self.n_components, self.dim
        nk = check_array("counts['weights']", counts["weights"], shape=(K,))
        s1 = check_numbers("counts['means']", counts["means"], ndim=2)
        if s1.shape != (K, D):
            raise ValueError(f"counts['means'] must have shape {(K, D)}, got {s1.shape}")
        s2 = check_array("counts['sq']", counts["sq"], shape=(K,))
        alive = nk > 0
        safe = np.where(alive, nk, 1.0)
        means = np.where(alive[:, None], s1 / safe[:, None], self.means)
        variance = self.variance
        if self.learn_variance:
            # Σ_n r ||x − μ||² = Σ r ||x||² − ||Σ r x||² / Σ r  at μ = Σ r x / Σ r
            scatter = np.where(alive, s2 - np.einsum("kd,kd->k", s1, s1) / safe, 0.0)
            scatter = np.maximum(scatter, 0.0)
            if self.variance.ndim == 0:
                variance = np.asarray(max(scatter.sum() / (self.dim * nk.sum()), self.min_variance))
            else:
                per = np.maximum(scatter / (self.dim * safe), self.min_variance)
                variance = np.where(alive, per, self.variance)
        weights = normalize(nk, previous=self.weights) if self.learn_weights else self.weights
        return self._replace(weights, means, variance)

    def params(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "means": self.means, "variance": np.atleast_1d(self.variance)}

    def sample(self, n: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points (n, D) and their true components (n,)."""
        check_positive_int("n", n)
        check_elements("n", n * (self.dim + 1), "n × (D + 1)")
        g = as_generator(rng)
        z = g.choice(self.n_components, size=n, p=self.weights)
        sd = np.sqrt(np.broadcast_to(self.variance, (self.n_components,)))[z]
        return self.means[z] + sd[:, None] * g.standard_normal((n, self.dim)), z


@dataclass
class KMeansResult:
    """Lloyd's k-means, iteration by iteration.

    ``centres[0]`` are the initial centres and ``centres[t]`` those after ``t`` steps;
    ``assignments[t]`` is the nearest-centre assignment computed from ``centres[t]``;
    ``inertia[t] = Σ_n ||x_n − centres[t][assignments[t][n]]||²``.
    """

    centres: list[np.ndarray] = field(default_factory=list)
    assignments: list[np.ndarray] = field(default_factory=list)
    inertia: list[float] = field(default_factory=list)
    converged: bool = False


def lloyd_step(X, centres) -> tuple[np.ndarray, np.ndarray]:
    """One Lloyd iteration: assign every point to its nearest centre (ties to the lowest
    index), then move each centre to the mean of its points; a centre with no points stays.
    Returns ``(assignments (N,), new_centres (K, D))``."""
    X = _check_points("X", X)
    C = _check_points("centres", centres)
    if C.shape[1] != X.shape[1]:
        raise ValueError(f"centres have {C.shape[1]} dimensions but X has {X.shape[1]}")
    d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    z = np.argmin(d, axis=1)
    new = C.copy()
    for k in range(C.shape[0]):
        members = z == k
        if members.any():
            new[k] = X[members].mean(axis=0)
    return z, new


def kmeans(X, centres, max_iter: int = 100) -> KMeansResult:
    """Lloyd's algorithm from ``centres`` until the assignments stop changing (or ``max_iter``,
    a whole number >= 0, of steps)."""
    max_iter = check_scalar("max_iter", max_iter, low=0, integer=True)
    X = _check_points("X", X)
    C = _check_points("centres", centres)
    res = KMeansResult(centres=[C])
    for _ in range(max_iter):
        z, new = lloyd_step(X, C)
        res.assignments.append(z)
        res.inertia.append(float(((X - C[z]) ** 2).sum()))
        if len(res.assignments) > 1 and np.array_equal(z, res.assignments[-2]):
            res.converged = True
            break
        C = new
        res.centres.append(C)
    return res


# ---------------------------------------------------------------------------------------------
# module-level functions


def log_likelihood(model, X) -> float:
    """``Σ_n log p(x_n)`` under a mixture (``-inf`` when some item is impossible)."""
    check_instance("model", model, _Mixture, "a mixture.CategoricalMixture or mixture.GaussianMixture")
    return float(model.item_log_likelihoods(X).sum())


def posteriors(model, X) -> np.ndarray:
    """``p(z_n = k | x_n)``, shape (N, K)."""
    check_instance("model", model, _Mixture, "a mixture.CategoricalMixture or mixture.GaussianMixture")
    return model.posteriors(X)


def sample(model, n: int, size=None, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` items from a mixture and their true components. For a :class:`CategoricalMixture`
    ``size`` is the number of tokens per item (required); a :class:`GaussianMixture` takes none."""
    check_instance("model", model, _Mixture, "a mixture.CategoricalMixture or mixture.GaussianMixture")
    if isinstance(model, CategoricalMixture):
        if size is None:
            raise ValueError("sample from a CategoricalMixture needs size= (tokens per item)")
        return model.sample(n, size, rng)
    if size is not None:
        raise ValueError("a GaussianMixture sample has no size= (each item is one point)")
    return model.sample(n, rng)

