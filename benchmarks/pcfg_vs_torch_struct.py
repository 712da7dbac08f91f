"""Benchmark: the inside-outside E-step of ``emlab.pcfg`` vs torch-struct's CPU marginals (issue 10).

Workload: that of ``pcfg_inside_outside.py`` (a seeded dense CNF grammar with 10 nonterminals and
20 words, 200 sentences of exactly 15 words). torch-struct (Rush 2020) computes the expected rule
counts of a PCFG as the gradient of its log-partition function (``SentCFG(...).marginals``:
the inside pass in the log semiring, then autograd for the outside pass). Its grammar separates
``NT`` nonterminals from ``T`` preterminals (only a preterminal covers one word), so the emlab
grammar is written in its form with one preterminal per nonterminal: ``terms[b, i, A] =
log q(A → w_i)`` and ``rules[A, X, Y] = log q(A → B C)`` for X ∈ {B, B's preterminal}, Y ∈ {C,
C's preterminal}; the root is the start symbol. The inside chart then sums over exactly the
trees of the emlab grammar (the spans of width ≥ 2 cost the same ``NT × NT`` pairs), and the
benchmark checks it: the log-likelihoods and the expected rule counts of both must agree.

Both run in this process on one thread (``threadpoolctl`` for BLAS, ``torch.set_num_threads(1)``);
times are medians of alternating runs. Target: emlab >= 60x faster.

torch is not a dependency of emlab. ``make benchmarks-torch`` makes ``.venv-torch`` (emlab plus
torch and torch-struct, ``TORCH_SPEC`` chooses the torch build, e.g. ``torch==2.13.0+cpu`` where the
package index has the CPU build) and runs this file there; under ``make benchmarks`` it says that
it was skipped when torch-struct is missing.
Run: ``.venv-torch/bin/python benchmarks/pcfg_vs_torch_struct.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from emlab import pcfg

N_NT, N_WORDS, N_SENT, LENGTH, REPEATS = 10, 20, 200, 15, 7


def torch_struct_problem(g: pcfg.PCFG, words: np.ndarray):
    """``(terms, rules, roots)`` log-potentials of torch-struct's ``SentCFG`` for the sentences
    ``words`` (B, n) of the grammar ``g`` (see the module docstring)."""
    import torch
    N = g.N
    with np.errstate(divide="ignore"):
        log_binary, log_lexical = np.log(g.binary), np.log(g.lexical)
    terms = torch.tensor(log_lexical.T[words])                   # (B, n, T = N): log q(A → w_i)
    rules = torch.tensor(np.tile(log_binary, (1, 2, 2)))         # (N, 2N, 2N): NT and T copies of B, C
    roots = torch.full((N,), -np.inf, dtype=torch.float64)
    roots[g.nonterminals.index(g.start)] = 0.0
    B = words.shape[0]
    return terms, rules.expand(B, N, 2 * N, 2 * N), roots.expand(B, N)


def torch_struct_e_step(problem):
    """``(log-likelihood, binary counts (N, N, N), lexical counts per position (B, n, N))``: the
    marginals of torch-struct's PCFG (the gradient of its log-partition)."""
    import torch
    import torch_struct
    terms, rules, roots = (x.detach().clone().requires_grad_(True) for x in problem)
    with warnings.catch_warnings():              # (SentCFG declares no arg_constraints)
        warnings.simplefilter("ignore", UserWarning)
        dist = torch_struct.SentCFG((terms, rules, roots))
    log_z = dist.partition.sum()
    g_terms, g_rules = torch.autograd.grad(log_z, (terms, rules))
    N = rules.shape[1]
    binary = g_rules.sum(0).reshape(N, 2, N, 2, N).sum(axis=(1, 3))
    return log_z.item(), binary.numpy(), g_terms.numpy()


def main() -> None:
    try:
        import torch
        import torch_struct  # noqa: F401
    except ImportError:
        print("PCFG vs torch-struct: SKIPPED (torch and torch-struct are not installed here; "
              "`make benchmarks-torch` runs this peer in its own environment)")
        return
    torch.set_num_threads(1)
    rng = np.random.default_rng(2024)
    nonterminals, vocabulary = [f"X{i}" for i in range(N_NT)], [f"w{i}" for i in range(N_WORDS)]
    g = pcfg.PCFG.random(nonterminals, vocabulary, rng=rng, start="X0")
    sentences = pcfg.sample(g, N_SENT, rng=rng, length=LENGTH)
    prepared = g.prepare(sentences)
    words = np.concatenate([b.words for b in prepared.batches])
    problem = torch_struct_problem(g, words)

    with threadpool_limits(limits=1):
        est, theirs = g.e_step(prepared, "soft"), torch_struct_e_step(problem)   # warm-up
        ours_t, theirs_t = [], []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            g.e_step(prepared, "soft")
            ours_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            torch_struct_e_step(problem)
            theirs_t.append(time.perf_counter() - t0)
    ours, peer = statistics.median(ours_t), statistics.median(theirs_t)

    ll, binary, per_position = theirs
    lexical = np.zeros((N_NT, N_WORDS))
    np.add.at(lexical.T, words.ravel(), per_position.reshape(-1, N_NT))
    ll_rel = abs(ll - est.log_likelihood) / abs(est.log_likelihood)
    count_err = max(np.max(np.abs(binary - est.counts["binary"])),
                    np.max(np.abs(lexical - est.counts["lexical"])))
    ok = ll_rel < 1e-9 and count_err < 1e-6 * N_SENT * LENGTH
    print(f"PCFG inside-outside E-step vs torch-struct (torch {torch.__version__}, float64, "
          f"CPU, 1 thread): {N_NT} nonterminals, {N_WORDS} words, {N_SENT} sentences of length {LENGTH}; "
          f"median of {REPEATS} alternating runs, load average {os.getloadavg()[0]:.1f}")
    print(f"  emlab.pcfg E-step             {ours * 1e3:9.2f} ms")
    print(f"  torch-struct SentCFG marginals {peer * 1e3:8.2f} ms")
    verdict = "MET" if peer / ours >= 60 else "NOT MET"
    print(f"  speed-up vs torch-struct: {peer / ours:.1f}x   (target >= 60x)  {verdict}")
    print(f"  agreement: log-likelihood relative difference {ll_rel:.1e}, largest expected-count difference "
          f"{count_err:.1e} ({'OK' if ok else 'MISMATCH'})")
    if not ok:
        sys.exit("torch-struct and emlab disagree: the comparison is not of the same computation")


if __name__ == "__main__":
    main()
