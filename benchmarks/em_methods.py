"""Hard and stochastic EM cost no more than soft EM (issue 10, item 7).

The design says: soft EM needs a sum pass, its adjoint pass and the posterior counts; hard EM a
max pass plus a back-trace; stochastic EM a sum pass plus a backward sampling sweep. That is what
``emlab.em.e_step`` runs: each method asks the model for the chart of its own semiring. Max-product
has no BLAS kernel: its matrix product, the fused chain step, the back-trace and CKY's top-down walk
are the compiled loops of ``emlab.kernels`` (numba), and the run says whether they were in use
(``EMLAB_NUMBA=0`` measures the numpy fallback). This benchmark times one E-step of each method on
the workloads of ``hmm_vs_hmmlearn.py`` (1000 sequences x 100 steps, K = 10, V = 50) and
``pcfg_inside_outside.py`` (200 sentences x 15 words, 10 nonterminals, 20 words), alternating
the methods, BLAS pinned to one thread (threadpoolctl), and prints the ratios hard / soft and
stochastic / soft (target: <= 1.0).

Hard EM itself never needs ``log p(x)``, but ``em.fit`` records ``L(θ_t)`` at every iterate
(``res.log_likelihoods``), which for hard EM is one more sum pass (the E-step computes it when it
is first read). The second line of each workload prints that cost too: the E-step with its
``log_likelihood`` read, as ``em.fit`` does it.

Run: ``.venv/bin/python benchmarks/em_methods.py [repeats]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from emlab import hmm, kernels, pcfg

METHODS = ("soft", "hard", "stochastic")


def hmm_workload():
    truth = hmm.HMM.random(10, 50, rng=0)
    corpus = hmm.sample(truth, 1000, 100, rng=1)[0]
    model = hmm.HMM.random(10, 50, rng=2)
    return "HMM  (1000 x 100 steps, K=10, V=50)", model, model.prepare(corpus)


def pcfg_workload():
    rng = np.random.default_rng(2024)
    g = pcfg.PCFG.random([f"X{i}" for i in range(10)], [f"w{i}" for i in range(20)], rng=rng, start="X0")
    sentences = pcfg.sample(g, 200, rng=rng, length=15)
    return "PCFG (200 x 15 words, N=10, V=20)", g, g.prepare(sentences)


def time_methods(model, prepared, repeats: int, read_likelihood: bool) -> dict[str, float]:
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    rng = np.random.default_rng(0)
    for m in METHODS:                            # warm-up: caches, workspaces, compiled loops
        _ = model.e_step(prepared, m, rng).log_likelihood
    for _ in range(repeats):
        for m in METHODS:
            t0 = time.perf_counter()
            est = model.e_step(prepared, m, rng)
            if read_likelihood:
                _ = est.log_likelihood
            times[m].append(time.perf_counter() - t0)
    return {m: statistics.median(ts) for m, ts in times.items()}


def main(repeats: int = 7) -> None:
    print(f"E-step cost by method, median of {repeats} alternating runs, BLAS 1 thread; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; max-product "
          f"{'compiled (numba)' if kernels.available() else 'numpy fallback'}")
    with threadpool_limits(limits=1):
        for name, model, prepared in (hmm_workload(), pcfg_workload()):
            print(f"  {name}")
            for read, label in ((False, "the E-step"), (True, "E-step + L(θ) read, as em.fit records it")):
                med = time_methods(model, prepared, repeats, read)
                hard, stoch = med["hard"] / med["soft"], med["stochastic"] / med["soft"]
                print(f"    {label}: soft {med['soft'] * 1e3:6.1f} ms, hard {med['hard'] * 1e3:6.1f} ms, "
                      f"stochastic {med['stochastic'] * 1e3:6.1f} ms")
                def verdict(r, read=read):
                    return "for information" if read else ("MET" if r <= 1 else "NOT MET")
                print(f"      hard / soft = {hard:.2f} ({verdict(hard)})   "
                      f"stochastic / soft = {stoch:.2f} ({verdict(stoch)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
