"""Benchmark: one full inside-outside E-step of ``emlab.pcfg`` vs a pure-Python triple loop.

Workload (issue 4): a seeded random dense CNF grammar with 10 nonterminals and 20 words (every
``A → B C`` and every ``A → w``), and 200 sentences of exactly 15 words sampled from it (drawn
from p(t | length = 15) by the length-conditioned sampler ``pcfg.sample(..., length=15)``).
One E-step = inside, outside and expected rule counts of all 200 sentences.

Both run in this process with BLAS limited to one thread (threadpoolctl); times are medians.
The pure-Python reference (``naive_inside_outside.py``) takes minutes on the full workload, so it
is timed on a subset of the sentences and scaled linearly to 200 (all sentences have the same
length, so its cost is exactly proportional to their number); the output says so.
Run: ``.venv/bin/python benchmarks/pcfg_inside_outside.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import naive_inside_outside as naive  # noqa: E402

from emlab import pcfg  # noqa: E402

N_NT, N_WORDS, N_SENT, LENGTH = 10, 20, 200, 15
NAIVE_SUBSET, NAIVE_REPEATS, FAST_REPEATS = 4, 3, 21


def executed_flops(n_sent: int, n: int, N: int) -> float:
    """Floating-point operations the vectorized E-step executes (multiply-adds count 2; exp/log,
    normalization and bookkeeping not counted)."""
    flops = 0.0
    for w in range(2, n + 1):
        S, K = n - w + 1, w - 1
        spans = n_sent * S
        # inside: weight the left children, sum the split points (batched matmul), rule product
        flops += spans * (K * N + 2 * K * N * N + 2 * N * N * N)
        # outside: rule product, binary counts, the two child products, weights and accumulation
        flops += spans * (2 * N * N * N + 2 * N * N * N + 2 * 2 * K * N * N + K * N + 2 * K * N)
    return flops


def run_times(fn, repeats: int, clock=time.perf_counter) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return times


def median_time(fn, repeats: int, clock=time.perf_counter) -> float:
    return statistics.median(run_times(fn, repeats, clock))


def main() -> None:
    rng = np.random.default_rng(2024)
    nts = [f"X{i}" for i in range(N_NT)]
    words = [f"w{i}" for i in range(N_WORDS)]
    g = pcfg.PCFG.random(nts, words, rng=rng, start="X0")
    sentences = pcfg.sample(g, N_SENT, rng=rng, length=LENGTH)
    prepared = g.prepare(sentences)
    with threadpool_limits(limits=1):
        g.e_step(prepared, "soft")  # warm up
        fast_runs = run_times(lambda: g.e_step(prepared, "soft"), FAST_REPEATS)
        fast = statistics.median(fast_runs)
        fast_cpu = median_time(lambda: g.e_step(prepared, "soft"), FAST_REPEATS, time.process_time)
        estep = g.e_step(prepared, "soft")

        binary, lexical, start = naive.grammar_lists(g)
        subset = [list(c) for c in prepared.codes[:NAIVE_SUBSET]]
        slow_subset = median_time(lambda: naive.e_step(binary, lexical, start, subset), NAIVE_REPEATS)
        slow = slow_subset * N_SENT / NAIVE_SUBSET
        ll_naive, counts_naive, lex_naive = naive.e_step(binary, lexical, start, subset)

        sub = g.prepare(sentences[:NAIVE_SUBSET])
        sub_estep = g.e_step(sub, "soft")
        a = np.random.default_rng(0).random((1000, 1000))
        matmul = median_time(lambda: a @ a, 5)

    cb = np.zeros((N_NT,) * 3)
    for (A, B, C), v in counts_naive.items():
        cb[A, B, C] = v
    count_err = max(np.max(np.abs(cb - sub_estep.counts["binary"])),
                    np.max(np.abs(np.array(lex_naive) - sub_estep.counts["lexical"])))
    ll_rel = abs(sub_estep.log_likelihood - ll_naive) / abs(ll_naive)
    gflops = executed_flops(N_SENT, LENGTH, N_NT) / fast / 1e9
    print(f"PCFG inside-outside E-step: {N_NT} nonterminals (dense CNF, {N_NT ** 3} binary rules), "
          f"{N_WORDS} words, {N_SENT} sentences of length {LENGTH}; BLAS on 1 thread; medians")
    print(f"  emlab.pcfg E-step (all {N_SENT} sentences, median of {FAST_REPEATS}): {fast * 1e3:8.2f} ms"
          f" wall (best {min(fast_runs) * 1e3:.2f} ms), {fast_cpu * 1e3:.2f} ms CPU   "
          f"log-likelihood {estep.log_likelihood:.6f}")
    print(f"  pure-Python triple loop: {slow_subset:.2f} s on {NAIVE_SUBSET} sentences (median of "
          f"{NAIVE_REPEATS}), scaled x{N_SENT // NAIVE_SUBSET} to {N_SENT} sentences: {slow:8.1f} s")
    print(f"  load average while running: {' '.join(open('/proc/loadavg').read().split()[:3])} "
          "(other jobs on the machine inflate both timings)")
    print(f"  speed-up: {slow / fast:,.0f}x   (target >= 300x; E-step target well under 100 ms)")
    print(f"  agreement on the {NAIVE_SUBSET}-sentence subset: log-likelihood "
          f"{sub_estep.log_likelihood:.12f} "
          f"vs {ll_naive:.12f} (relative difference {ll_rel:.1e}); largest expected-count difference "
          f"{count_err:.1e}")
    print(f"  achieved {gflops:.2f} GFLOP/s (flops executed by the vectorized E-step) vs numpy 1000x1000 "
          f"matmul {2.0 / matmul:.2f} GFLOP/s")


if __name__ == "__main__":
    main()
