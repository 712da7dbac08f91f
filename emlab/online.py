"""Incremental and stepwise (online) EM on the public hooks of :mod:`emlab.em` (notebook 09).

Batch EM does a full E-step over the data before every M-step. Both variants here update the
parameters after every *block* (mini-batch) of items, using only ``model.prepare``,
``model.e_step(prepared, "soft")`` and ``model.m_step(counts)`` (counts have the shapes of the
parameters, so any emlab model plugs in).

**Incremental EM** (Neal & Hinton 1998). The data are cut into fixed blocks ``b`` with
their own expected counts ``s_b``; the M-step uses the total ``S = Σ_b s_b``. A step re-does the
E-step of one block only::

    s_b' = E[c(x_b, y) | x_b; θ],    S ← S − s_b + s_b',    s_b ← s_b',    θ ← M-step(S)

The free energy is a sum over blocks, ``F = Σ_b F_b(q_b, θ)``; the partial E-step maximizes F over
``q_b`` and the M-step over θ, so **F never decreases**, and a (local) maximum of F is one of L
(Neal & Hinton show it); the log-likelihood L itself is not guaranteed to be monotone. Here the first
pass is one batch E-step at θ_0 (so every ``q_b`` is defined), then each pass visits every block once.

**Stepwise EM** (Liang & Klein 2009, *Online EM for unsupervised models*, NAACL-HLT, 611–619;
Sato & Ishii 2000, *Neural Computation* 12:407; Cappé & Moulines 2009, *J. R. Stat. Soc. B*
71:593). Running statistics ``μ`` are moved towards the expected counts ``s'_k`` of the k-th
mini-batch of ``m = batch_size`` items (drawn in a shuffled order each pass)::

    μ ← (1 − η_k) μ + η_k s'_k,      η_k = (k + 2)^{−α},      θ ← M-step(μ)

For ``0.5 < α ≤ 1`` the steps satisfy ``Σ η_k = ∞``, ``Σ η_k² < ∞`` — the stochastic-approximation
conditions under which Cappé & Moulines prove, for items drawn i.i.d. (a stream, or uniformly with
replacement from a fixed corpus), almost-sure convergence to the stationary points of the
expected log-likelihood (for a corpus: its ``L / N``); shuffled passes are the usual practice,
not literally covered by that theorem. Smaller α forgets old statistics faster; the mini-batch
size ``m`` trades the noise of one step against the number of M-steps per pass (Liang & Klein
tune both per task). The M-step of a product of
categoricals is invariant to the scale of μ, so μ needs no rescaling. The initial model enters as
``μ_0 = w · θ_0`` (each categorical of θ_0 is worth ``w = prior_weight`` pseudo-counts, and
``M-step(μ_0) = θ_0``): without it the first mini-batch alone would set the probability of every
symbol it lacks to 0, and a later item containing that symbol would have probability zero.
Its weight decays like ``Π_k (1 − η_k)``; with ``α = 1``, μ is the plain average of ``w θ_0`` and
every mini-batch's counts. ``α = 0`` is allowed and
means ``η = 1``: with one mini-batch holding all the data that is exactly batch EM (a test checks
it). Stepwise EM is stochastic (the shuffle) and not monotone in L or F.

Both return an :class:`OnlineResult` whose ``log_likelihoods`` are the **full-data** ``L(θ)``
recorded at the ``passes`` (data passes of E-step work done so far), to be compared with batch
EM's ``res.log_likelihoods[t]`` at ``t`` passes. Recording costs extra E-steps that are not
counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import free_energy as fe
from .em import MAX_RUN, prepare
from .validation import (
    as_generator,
    check_bool,
    check_categorical_model,
    check_count,
    check_positive_int,
    check_sequence,
)

__all__ = ["OnlineResult", "incremental", "stepwise", "step_sizes"]


@dataclass
class OnlineResult:
    """The outcome of :func:`incremental` or :func:`stepwise`.

    Attributes
    ----------
    model : the last model.
    passes : (R,) data passes of E-step work when each record was taken (0 = the initial model).
    log_likelihoods : (R,) the full-data ``L(θ)`` at those points.
    free_energies : (n_updates,) ``F(q, θ)`` after every M-step (incremental EM only; else empty).
    n_updates : number of M-steps taken.
    method : ``"incremental"`` or ``"stepwise"``.
    batch_size, alpha : the settings (``alpha`` is None for incremental EM).
    """

    model: Any
    passes: np.ndarray
    log_likelihoods: np.ndarray
    free_energies: np.ndarray
    n_updates: int
    method: str
    batch_size: int
    alpha: float | None = None
    models: list = field(default_factory=list, repr=False)

    @property
    def log_likelihood(self) -> float:
        """The last recorded full-data log-likelihood."""
        return float(self.log_likelihoods[-1])


def step_sizes(n: int, alpha: float = 0.7) -> np.ndarray:
    """Liang & Klein's stepwise-EM steps ``η_k = (k + 2)^{−α}`` for ``k = 0 … n−1``."""
    n = check_count("n", n)
    alpha = _check_alpha(alpha)
    return (np.arange(n) + 2.0) ** -alpha


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)) \
            or not np.isfinite(alpha) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1] (0.5 < alpha <= 1 for convergence; 0 means "
                         f"step 1), got {alpha!r}")
    return float(alpha)


def _items(model, data):
    """The data as the model counts its items, validated once (naming the item at fault): the
    (N, ·) array of a mixture, the sequences of an HMM's corpus, the sentences of a PCFG's, else the
    list itself (IBM1's pairs). A single sequence or sentence is **one** item, as in
    :func:`emlab.em.fit`, never one item per symbol."""
    if not isinstance(data, str):                            # (a string is one sentence of a PCFG)
        check_sequence("data", data, "a list of items (sequences, sentences) or an (N, V) array")
    if len(data) == 0:
        raise ValueError("data is empty")
    prepared = prepare(model, data)
    if isinstance(prepared, np.ndarray):                     # a mixture's (N, V) or (N, D) items
        return prepared
    for attr in ("seqs", "texts"):                           # hmm.Corpus, pcfg.Corpus
        items = getattr(prepared, attr, None)
        if isinstance(items, list) and len(items) == len(prepared):
            return items
    return list(data)


def _subset(data, idx: np.ndarray):
    if isinstance(data, np.ndarray):
        return data[idx]
    return [data[i] for i in idx]


def _blocks(n: int, batch_size: int, order: np.ndarray | None = None) -> list[np.ndarray]:
    order = np.arange(n) if order is None else order
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _record_every(record_every, n_blocks: int) -> int:
    if record_every is None:
        return n_blocks
    return check_positive_int("record_every", record_every)


def _add(total, counts, sign=1.0):
    return {k: total[k] + sign * np.asarray(counts[k], dtype=float) for k in total}


def incremental(model, data, n_passes: int = 10, batch_size: int = 1, record_every: int | None = None,
                shuffle: bool = False, rng=None, keep_models: bool = False) -> OnlineResult:
    """Neal & Hinton's incremental EM (see the module docstring).

    Parameters
    ----------
    model : any emlab model (``hmm.HMM``, ``pcfg.PCFG``, a mixture).
    data : a list of items (sequences, sentences) or an (N, V) count matrix; a single sequence or
        sentence is one item, as in :func:`emlab.em.fit`.
    n_passes : passes over the data, the first being the batch E-step at θ_0 (at most
        :data:`emlab.em.MAX_RUN`).
    batch_size : items per block (the blocks are fixed).
    record_every : record the full-data L every this many M-steps (default: once per pass).
    shuffle : visit the blocks in a new random order (from ``rng``) each pass.

    ``free_energies`` holds ``F(q, θ)`` after every M-step: ``Σ_b (s_b · log θ + H_b)``, with
    ``H_b`` the entropy of block b's posterior at the θ it was computed with (notebook 09).
    """
    check_categorical_model("model", model, "incremental EM")
    shuffle, keep_models = check_bool("shuffle", shuffle), check_bool("keep_models", keep_models)
    n_passes = check_positive_int("n_passes", n_passes, high=MAX_RUN)
    batch_size = check_positive_int("batch_size", batch_size)
    data = _items(model, data)                              # validate everything once, naming the item
    n = len(data)
    gen = as_generator(rng)
    blocks = _blocks(n, batch_size)
    prepared = [model.prepare(_subset(data, b)) for b in blocks]
    every = _record_every(record_every, len(blocks))

    qs = [fe.q_of(model, p, "soft") for p in prepared]      # pass 1: the batch E-step at θ_0
    total = {k: sum(np.asarray(q.counts[k], dtype=float) for q in qs) for k in qs[0].counts}
    entropy = [q.entropy for q in qs]
    passes, lls = [0.0], [float(sum(q.log_likelihood for q in qs))]
    current = model.m_step(total)
    models = [model, current] if keep_models else []
    free = [fe.expected_log_joint(current, total) + sum(entropy)]
    passes.append(1.0)
    lls.append(_full_ll(current, prepared))
    updates, visited = 1, n
    for _ in range(n_passes - 1):
        order = gen.permutation(len(blocks)) if shuffle else range(len(blocks))
        for b in order:
            q = fe.q_of(current, prepared[b], "soft")
            total = _add(_add(total, qs[b].counts, -1.0), q.counts)
            total = {k: np.maximum(v, 0.0) for k, v in total.items()}   # rounding below 0
            qs[b], entropy[b] = q, q.entropy
            current = current.m_step(total)
            if keep_models:
                models.append(current)
            updates += 1
            visited += len(blocks[b])
            free.append(fe.expected_log_joint(current, total) + sum(entropy))
            if (updates - 1) % every == 0:
                passes.append(visited / n)
                lls.append(_full_ll(current, prepared))
    if passes[-1] != visited / n:
        passes.append(visited / n)
        lls.append(_full_ll(current, prepared))
    return OnlineResult(current, np.array(passes), np.array(lls), np.array(free), updates, "incremental",
                        batch_size, None, models)


def stepwise(model, data, n_passes: int = 10, batch_size: int = 1, alpha: float = 0.7,
             record_every: int | None = None, shuffle: bool = True, rng=None, prior_weight: float = 1.0,
             keep_models: bool = False) -> OnlineResult:
    """Liang & Klein's stepwise EM (see the module docstring): mini-batches of ``batch_size`` items
    in a fresh ``rng`` order each pass (``shuffle``), steps ``η_k = (k + 2)^{−alpha}``
    (``alpha = 0``: η = 1), statistics started at ``μ_0 = prior_weight · θ_0``. ``record_every``
    as in :func:`incremental`."""
    check_categorical_model("model", model, "stepwise EM")
    shuffle, keep_models = check_bool("shuffle", shuffle), check_bool("keep_models", keep_models)
    n_passes = check_positive_int("n_passes", n_passes, high=MAX_RUN)
    batch_size = check_positive_int("batch_size", batch_size)
    alpha = _check_alpha(alpha)
    if isinstance(prior_weight, bool) or not isinstance(prior_weight, (int, float, np.integer, np.floating)) \
            or not np.isfinite(prior_weight) or prior_weight < 0:
        raise ValueError(f"prior_weight must be a finite number >= 0, got {prior_weight!r}")
    data = _items(model, data)
    n = len(data)
    gen = as_generator(rng)
    n_blocks = len(_blocks(n, batch_size))
    every = _record_every(record_every, n_blocks)
    full = [prepare(model, data)]
    passes, lls = [0.0], [_full_ll(model, full)]
    models = [model] if keep_models else []
    mu = {c: float(prior_weight) * np.asarray(v, dtype=float) for c, v in model.params().items()}
    current, k, visited = model, 0, 0
    for _ in range(n_passes):
        order = gen.permutation(n) if shuffle else np.arange(n)
        for block in _blocks(n, batch_size, order):
            try:
                counts = current.e_step(current.prepare(_subset(data, block)), "soft").counts
            except ValueError as exc:
                why = ("with alpha=0 every step is η = 1, so the statistics are the last mini-batch's "
                       "counts alone (μ_0 is forgotten) and symbols it lacks get probability zero; an "
                       "alpha > 0 keeps μ_0's share positive" if alpha == 0 else
                       f"with prior_weight={prior_weight!r} the parameters gave an item probability "
                       "zero; a prior_weight > 0 keeps every probability of θ_0 positive")
                raise ValueError(f"stepwise EM: in the mini-batch of corpus items {block.tolist()}: {exc}. "
                                 f"{why[0].upper()}{why[1:]}") from None
            eta = (k + 2.0) ** -alpha
            mu = {c: (1 - eta) * mu[c] + eta * np.asarray(counts[c], dtype=float) for c in mu}
            current = current.m_step(mu)
            if keep_models:
                models.append(current)
            k += 1
            visited += len(block)
            if k % every == 0:
                passes.append(visited / n)
                lls.append(_full_ll(current, full))
    if passes[-1] != visited / n:
        passes.append(visited / n)
        lls.append(_full_ll(current, full))
    return OnlineResult(current, np.array(passes), np.array(lls), np.array([]), k, "stepwise", batch_size,
                        alpha, models)


def _full_ll(model, prepared_blocks) -> float:
    """The full-data log-likelihood from prepared blocks: the sum pass of an E-step per block (the
    stochastic E-step, whose extra work is one cheap backward sampling sweep)."""
    rng = np.random.default_rng(0)       # the sampled paths are discarded: only the sum pass matters
    return float(sum(model.e_step(p, "stochastic", rng).log_likelihood for p in prepared_blocks))
