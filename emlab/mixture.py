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

Both implement the :class:`emlab.em.EMModel` protocol, so :func:`emlab.em.fit` drives them
with ``method="soft"``, ``"hard"`` or ``"stochastic"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .categorical import normalize
from .em import METHODS, EStep
from .validation import as_generator, check_array, check_positive_int, check_stochastic

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


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _posterior_from_joint(joint: np.ndarray, item_ll: np.ndarray) -> np.ndarray:
    """Responsibilities ``r[n, k] = p(z = k | x_n) = exp(joint[n, k] − log p(x_n))``."""
    return np.exp(joint - item_ll[:, None])


def _assign(joint: np.ndarray, item_ll: np.ndarray, method: str, rng: np.random.Generator):
    """Per-item component weights for an E-step: posteriors (soft), one-hot of the best
    component (hard; ties go to the lowest index) or one-hot of a sampled component
    (stochastic). Returns ``(r, objective)``."""
    n, k = joint.shape
    post = _posterior_from_joint(joint, item_ll)
    if method == "soft":
        return post, float(item_ll.sum())
    if method == "hard":
        z = np.argmax(joint, axis=1)
        objective = float(joint[np.arange(n), z].sum())
    else:
        u = rng.random(n)
        cdf = np.cumsum(post, axis=1)
        z = np.minimum((cdf < u[:, None] * cdf[:, -1:]).sum(axis=1), k - 1)
        objective = float(item_ll.sum())
    r = np.zeros_like(joint)
    r[np.arange(n), z] = 1.0
    return r, objective


def _raise_if_impossible(item_ll: np.ndarray) -> None:
    bad = np.flatnonzero(~np.isfinite(item_ll))
    if bad.size:
        raise ValueError(f"item {int(bad[0])} has probability zero under the model, so its expected "
                         "counts are undefined (E-step)")


# ---------------------------------------------------------------------------------------------
# mixture of categoricals


class CategoricalMixture:
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
    """

    def __init__(self, weights, probs, learn_weights: bool = True):
        w = check_stochastic("weights", weights, ndim=1)
        p = check_stochastic("probs", probs, ndim=2)
        if w.size == 0 or p.shape[1] == 0:
            raise ValueError(f"a mixture needs at least one component and one symbol, got weights "
                             f"{w.shape} and probs {p.shape}")
        if p.shape[0] != w.shape[0]:
            raise ValueError(f"probs has {p.shape[0]} rows but weights has {w.shape[0]} components")
        self.weights = w
        self.probs = p
        self.learn_weights = bool(learn_weights)

    # --- constructors ---------------------------------------------------------------------
    @classmethod
    def random(cls, K: int, V: int, rng=None, learn_weights: bool = True) -> CategoricalMixture:
        """Weights and every row of ``probs`` drawn from a flat Dirichlet with ``rng``."""
        check_positive_int("K", K)
        check_positive_int("V", V)
        g = as_generator(rng)
        return cls(g.dirichlet(np.ones(K)), g.dirichlet(np.ones(V), size=K), learn_weights)

    @classmethod
    def uniform(cls, K: int, V: int, learn_weights: bool = True) -> CategoricalMixture:
        """All components identical and uniform: a symmetric fixed point EM never leaves
        (notebook 06)."""
        check_positive_int("K", K)
        check_positive_int("V", V)
        return cls(np.full(K, 1.0 / K), np.full((K, V), 1.0 / V), learn_weights)

    @property
    def n_components(self) -> int:
        return self.weights.shape[0]

    @property
    def n_symbols(self) -> int:
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

    def item_log_likelihoods(self, data) -> np.ndarray:
        """``log p(x_n)`` for every item (``-inf`` for an impossible item)."""
        X = self.prepare(data)
        return _logsumexp_rows(self.joint_log_probs(X))

    def posteriors(self, data) -> np.ndarray:
        """``r[n, k] = p(z = k | x_n)``, shape (N, K); raises ``ValueError`` for an item of
        probability zero."""
        X = self.prepare(data)
        joint = self.joint_log_probs(X)
        item_ll = _logsumexp_rows(joint)
        _raise_if_impossible(item_ll)
        return _posterior_from_joint(joint, item_ll)

    def e_step(self, X: np.ndarray, method: str = "soft", rng=None) -> EStep:
        """Expected counts ``{"weights": Σ_n r_n (K,), "probs": Σ_n r_n x_nᵀ (K, V)}`` with
        ``r`` the posteriors (soft), the best component (hard) or a sampled one (stochastic).

        The hard objective is ``Σ_n max_k log p(x_n, z = k)``; the others report ``log p(X)``.
        """
        _check_method(method)
        joint = self.joint_log_probs(X)
        item_ll = _logsumexp_rows(joint)
        _raise_if_impossible(item_ll)
        r, objective = _assign(joint, item_ll, method, as_generator(rng))
        counts = {"weights": r.sum(axis=0), "probs": r.T @ X}
        return EStep(counts=counts, log_likelihood=float(item_ll.sum()), objective=objective)

    def m_step(self, counts: dict[str, np.ndarray]) -> CategoricalMixture:
        """Normalize each categorical (notebook 01); all-zero rows keep their previous values."""
        weights = normalize(counts["weights"], previous=self.weights) if self.learn_weights else self.weights
        probs = normalize(counts["probs"], previous=self.probs)
        return CategoricalMixture(weights, probs, self.learn_weights)

    def params(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "probs": self.probs}

    def sample(self, n: int, size, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` items of ``size`` tokens each (an int, or one int per item): returns the
        (n, V) integer counts and the (n,) true components."""
        check_positive_int("n", n)
        sizes = np.broadcast_to(np.asarray(size), (n,))
        if not np.issubdtype(sizes.dtype, np.integer) or (sizes < 0).any():
            raise ValueError(f"size must be a non-negative integer (or one per item), got {size!r}")
        g = as_generator(rng)
        z = g.choice(self.n_components, size=n, p=self.weights)
        X = np.stack([g.multinomial(int(sizes[i]), self.probs[z[i]]) for i in range(n)])
        return X, z


def two_coins_example() -> tuple[np.ndarray, CategoricalMixture]:
    """Do & Batzoglou (2008), "What is the expectation maximization algorithm?", Nature
    Biotechnology 26:897, figure 1b.

    Five trials of ten flips of one of two coins A and B (which one is hidden), with 5, 9, 8,
    4 and 7 heads. Returns the (5, 2) counts ``[heads, tails]`` and the paper's starting model
    θ_A = 0.6, θ_B = 0.5, each coin picked with fixed probability 1/2 (``learn_weights=False``).
    The paper reports θ_A ≈ 0.71, θ_B ≈ 0.58 after one EM iteration and θ_A ≈ 0.80,
    θ_B ≈ 0.52 after ten (:data:`TWO_COINS_REPORTED`).
    """
    heads = np.array([5, 9, 8, 4, 7])
    X = np.stack([heads, 10 - heads], axis=1)
    model = CategoricalMixture([0.5, 0.5], [[0.6, 0.4], [0.5, 0.5]], learn_weights=False)
    return X, model


#: The published figures of Do & Batzoglou (2008), fig. 1b: iteration -> (θ_A, θ_B), 2 decimals.
TWO_COINS_REPORTED = {1: (0.71, 0.58), 10: (0.80, 0.52)}


# ---------------------------------------------------------------------------------------------
# spherical Gaussian mixture and k-means


def _check_points(name: str, value) -> np.ndarray:
    """Real-valued points (N, D): any sign, but finite."""
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
    return X


class GaussianMixture:
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
    min_variance : float
        Variances are kept ≥ this (a constrained M-step, still monotone), so a component that
        shrinks onto one point cannot send the likelihood to infinity.

    The expected sufficient statistics (``e_step(...).counts``) are ``{"weights": Σ_n r_nk (K,),
    "means": Σ_n r_nk x_n (K, D), "sq": Σ_n r_nk ||x_n||² (K,)}``. A component that receives
    no points keeps its previous mean and variance (and gets weight 0 if weights are learned).
    """

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
        if not (np.isfinite(min_variance) and min_variance > 0):
            raise ValueError(f"min_variance must be a positive number, got {min_variance!r}")
        self.weights = w
        self.means = mu
        self.variance = var
        self.learn_weights = bool(learn_weights)
        self.learn_variance = bool(learn_variance)
        self.min_variance = float(min_variance)

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
    def n_components(self) -> int:
        return self.weights.shape[0]

    @property
    def dim(self) -> int:
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
        return (_safe_log(self.weights)[None, :] - 0.5 * self.dim * np.log(2 * np.pi * var)[None, :]
                - self.sq_distances(X) / (2 * var[None, :]))

    def item_log_likelihoods(self, data) -> np.ndarray:
        return _logsumexp_rows(self.joint_log_probs(self.prepare(data)))

    def posteriors(self, data) -> np.ndarray:
        X = self.prepare(data)
        joint = self.joint_log_probs(X)
        item_ll = _logsumexp_rows(joint)
        _raise_if_impossible(item_ll)
        return _posterior_from_joint(joint, item_ll)

    def e_step(self, X: np.ndarray, method: str = "soft", rng=None) -> EStep:
        """Responsibility-weighted sufficient statistics. Hard: each point counts only for
        its nearest component in the ``log π_k + log N`` sense (ties to the lowest index),
        objective ``Σ_n max_k log p(x_n, z = k)``; stochastic: a sampled component."""
        _check_method(method)
        joint = self.joint_log_probs(X)
        item_ll = _logsumexp_rows(joint)
        _raise_if_impossible(item_ll)
        r, objective = _assign(joint, item_ll, method, as_generator(rng))
        counts = {"weights": r.sum(axis=0), "means": r.T @ X, "sq": r.T @ np.einsum("nd,nd->n", X, X)}
        return EStep(counts=counts, log_likelihood=float(item_ll.sum()), objective=objective)

    def m_step(self, counts: dict[str, np.ndarray]) -> GaussianMixture:
        """``μ_k = Σ r x / Σ r``; ``σ² = Σ r ||x − μ||² / (D Σ r)`` (pooled over components when
        shared); ``π = normalize(Σ r)``. Components with ``Σ r = 0`` keep mean and variance."""
        nk = np.asarray(counts["weights"], dtype=float)
        s1 = np.asarray(counts["means"], dtype=float)
        s2 = np.asarray(counts["sq"], dtype=float)
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
    """Lloyd's algorithm from ``centres`` until the assignments stop changing (or ``max_iter``)."""
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
    return float(model.item_log_likelihoods(X).sum())


def posteriors(model, X) -> np.ndarray:
    """``p(z_n = k | x_n)``, shape (N, K)."""
    return model.posteriors(X)


def sample(model, n: int, size=None, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` items from a mixture and their true components. For a :class:`CategoricalMixture`
    ``size`` is the number of tokens per item (required); a :class:`GaussianMixture` takes none."""
    if isinstance(model, CategoricalMixture):
        if size is None:
            raise ValueError("sample from a CategoricalMixture needs size= (tokens per item)")
        return model.sample(n, size, rng)
    if size is not None:
        raise ValueError("a GaussianMixture sample has no size= (each item is one point)")
    return model.sample(n, rng)

