"""A class of our own submissions, graded by the real grader in one batch: every honest answer
(other types, loop orders, log space, recursion) earns full marks on its item, every typical
mistake earns 0 on it, and for every mistake the visible check the student ran before submitting
already printed a ✘ (not only ✔) — except the brute-force enumerators of ``emlab.checks.references``
pasted into an answer: they are right on the visible checks' tiny cases, and earn 0 because a hidden
case is too large to enumerate within the grader's time limit of one call.

Each submission is an exercise notebook (``exercises/<name>.ipynb``) with every answer cell filled
with the master's solution except the ones under test. The whole class is graded by
``tools/grade.py`` in one subprocess (2 jobs); the visible checks run in this process.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from emlab import checks

ROOT = Path(__file__).resolve().parents[1]
FULL, ZERO = "full", "zero"

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="grading needs bubblewrap: apt-get install -y bubblewrap"
)


@dataclass
class Submission:
    """One student notebook: ``answers`` replaces answer cells (by grade id); ``expect`` maps a
    graded item to FULL or ZERO; ``check`` names the visible check (in ``emlab.checks``) that must
    print ✔ (FULL) or ✘ (ZERO) for the function ``function``."""

    exercise: str
    label: str
    answers: dict[str, str]
    expect: dict[str, str]
    check: tuple[str, str] | None = None  # (check function, student function)
    markdown_after: dict[str, str] = field(default_factory=dict)  # grade id -> a new markdown cell after it
    written: dict[str, str] = field(default_factory=dict)  # grade id -> the text of its markdown answer cell


def S(exercise, label, answers, item, verdict, check=None, **kw):
    return Submission(exercise, label, answers, {item: verdict}, check, **kw)


def pasted(*names: str) -> str:
    """The brute-force references ``names`` of the student kit (``emlab/checks/references.py``),
    pasted into an answer cell as a student could (without the grader's cache decorator)."""
    import inspect

    from emlab.checks import references

    sources = [inspect.getsource(getattr(references, n)).replace("@_remembered\n", "") for n in names]
    return "import itertools\n\nimport numpy as np\n\n\n" + "\n\n".join(sources) + "\n\n"


# ------------------------------------------------------------------------------- the class

CLASS: list[Submission] = [
    # 01: SymPy
    S("01_lagrangian_sympy", "solve via a list of solutions, keys as strings", {"ex01_solve_solution": '''
def solve_lagrangian(K):
    th = sp.symbols(f"theta_1:{K + 1}", positive=True)
    c = sp.symbols(f"c_1:{K + 1}", positive=True)
    lam = sp.Symbol("lambda")
    L = sum(ci * sp.log(t) for ci, t in zip(c, th)) - lam * (sum(th) - 1)
    sols = sp.solve([sp.diff(L, v) for v in (*th, lam)], [*th, lam])
    sol = sols[0] if isinstance(sols, list) else sols
    if isinstance(sol, tuple):
        sol = dict(zip([*th, lam], sol))
    return {str(k): v for k, v in sol.items()}
'''}, "ex01_solve_test", FULL, ("check_solve_lagrangian", "solve_lagrangian")),
    S("01_lagrangian_sympy", "hessian with the wrong sign", {"ex01_hessian_solution": '''
def hessian(K):
    th = [sp.Symbol(f"theta_{k}") for k in range(1, K + 1)]
    c = [sp.Symbol(f"c_{k}") for k in range(1, K + 1)]
    return sp.diag(*[ci / t**2 for ci, t in zip(c, th)])
'''}, "ex01_hessian_test", ZERO, ("check_hessian", "hessian")),
    S("01_lagrangian_sympy", "hessian entry by entry with sp.diff", {"ex01_hessian_solution": '''
def hessian(K):
    th = sp.symbols(f"theta_1:{K + 1}")
    c = sp.symbols(f"c_1:{K + 1}")
    lam = sp.Symbol("lambda")
    L = sum(ci * sp.log(t) for ci, t in zip(c, th)) - lam * (sum(th) - 1)
    return sp.Matrix(K, K, lambda i, j: sp.diff(L, th[i], th[j]))
'''}, "ex01_hessian_test", FULL, ("check_hessian", "hessian")),
    S("01_lagrangian_sympy", "solve forgetting the derivative in lambda", {"ex01_solve_solution": '''
def solve_lagrangian(K):
    th = [sp.Symbol(f"theta_{k}") for k in range(1, K + 1)]
    c = [sp.Symbol(f"c_{k}") for k in range(1, K + 1)]
    lam = sp.Symbol("lambda")
    L = sum(ci * sp.log(t) for ci, t in zip(c, th)) - lam * (sum(th) - 1)
    sol = sp.solve([sp.diff(L, t) for t in th], th, dict=True)[0]
    sol[lam] = sp.Integer(1)
    return sol
'''}, "ex01_solve_test", ZERO, ("check_solve_lagrangian", "solve_lagrangian")),
    # 02: two coins
    S("02_two_coins_em", "e_step in log space, returning lists", {"ex02_e_step_solution": '''
def e_step(theta_a, theta_b, heads, flips):
    out = []
    for h, n in zip(heads, flips):
        la = h * np.log(theta_a) + (n - h) * np.log(1 - theta_a)
        lb = h * np.log(theta_b) + (n - h) * np.log(1 - theta_b)
        m = max(la, lb)
        z = np.exp(la - m) + np.exp(lb - m)
        out.append([float(np.exp(la - m) / z), float(np.exp(lb - m) / z)])
    return out
'''}, "ex02_e_step_test", FULL, ("check_coins_e_step", "e_step")),
    S("02_two_coins_em", "e_step assuming 10 tosses per set", {"ex02_e_step_solution": '''
def e_step(theta_a, theta_b, heads, flips):
    heads = np.asarray(heads, float)
    like = np.stack([t ** heads * (1 - t) ** (10 - heads) for t in (theta_a, theta_b)], axis=1)
    return like / like.sum(axis=1, keepdims=True)
'''}, "ex02_e_step_test", ZERO, ("check_coins_e_step", "e_step")),
    S("02_two_coins_em", "m_step with loops, float32", {"ex02_m_step_solution": '''
def m_step(resp, heads, flips):
    num, den = [0.0, 0.0], [0.0, 0.0]
    for r, h, n in zip(resp, heads, flips):
        for c in range(2):
            num[c] += r[c] * h
            den[c] += r[c] * n
    return np.array([num[0] / den[0], num[1] / den[1]], dtype=np.float32)
'''}, "ex02_m_step_test", FULL, ("check_coins_m_step", "m_step")),
    S("02_two_coins_em", "m_step hard-coding 10 tosses per set", {"ex02_m_step_solution": '''
def m_step(resp, heads, flips):
    resp = np.asarray(resp, float)
    return tuple((resp.T @ np.asarray(heads, float)) / (10 * resp.sum(axis=0)))
'''}, "ex02_m_step_test", ZERO, ("check_coins_m_step", "m_step")),
    # 02b: generalized EM
    S("02b_gem", "q_function with loops over sets and coins", {"ex02b_q_solution": '''
import math

def q_function(theta, resp, heads, flips):
    total = 0.0
    for r, h, n in zip(resp, heads, flips):
        for c in range(2):
            total += r[c] * (math.log(0.5) + h * math.log(theta[c]) + (n - h) * math.log(1 - theta[c]))
    return total
'''}, "ex02b_q_test", FULL, ("check_q_function", "q_function")),
    S("02b_gem", "q_function with hard assignments", {"ex02b_q_solution": '''
def q_function(theta, resp, heads, flips):
    z = np.eye(2)[np.argmax(resp, axis=1)]
    logs = [np.log(0.5) + heads * np.log(t) + (flips - heads) * np.log(1 - t) for t in theta]
    return float((z * np.stack(logs, axis=1)).sum())
'''}, "ex02b_q_test", ZERO, ("check_q_function", "q_function")),
    S("02b_gem", "gem_step per coin, returning a list", {"ex02b_gem_solution": '''
def gem_step(theta, heads, flips, alpha):
    r = responsibilities(theta[0], theta[1], np.asarray(heads, float), np.asarray(flips, float))
    new = []
    for c in range(2):
        N = len(heads)
        best = sum(r[i, c] * heads[i] for i in range(N)) / sum(r[i, c] * flips[i] for i in range(N))
        new.append(theta[c] + alpha * (best - theta[c]))
    return new
'''}, "ex02b_gem_test", FULL, ("check_gem_step", "gem_step")),
    S("02b_gem", "gem_step with alpha and 1 - alpha swapped", {"ex02b_gem_solution": '''
def gem_step(theta, heads, flips, alpha):
    theta = np.asarray(theta, float)
    r = responsibilities(theta[0], theta[1], heads, flips)
    return alpha * theta + (1 - alpha) * (r.T @ heads) / (r.T @ flips)
'''}, "ex02b_gem_test", ZERO, ("check_gem_step", "gem_step")),
    # 03a: forward
    S("03a_forward", "forward returning a list of lists", {"ex03a_forward_solution": '''
def forward(start, trans, emit, seq):
    K = len(start)
    alpha = [[start[k] * emit[k][seq[0]] for k in range(K)]]
    for x in seq[1:]:
        prev = alpha[-1]
        alpha.append([sum(prev[j] * trans[j][k] for j in range(K)) * emit[k][x] for k in range(K)])
    return alpha
'''}, "ex03a_forward_test", FULL, ("check_forward", "forward")),
    S("03a_forward", "forward in float32, by recursion", {"ex03a_forward_solution": '''
def forward(start, trans, emit, seq):
    start, trans, emit = (np.asarray(a, np.float32) for a in (start, trans, emit))
    def rec(t):
        if t == 0:
            return (start * emit[:, seq[0]])[None]
        a = rec(t - 1)
        return np.vstack([a, (a[-1] @ trans) * emit[:, seq[t]]])
    return rec(len(seq) - 1)
'''}, "ex03a_forward_test", FULL, ("check_forward", "forward")),
    S("03a_forward", "forward with the previous symbol's emission", {"ex03a_forward_solution": '''
def forward(start, trans, emit, seq):
    alpha = np.zeros((len(seq), len(start)))
    alpha[0] = start * emit[:, seq[0]]
    for t in range(1, len(seq)):
        alpha[t] = (alpha[t - 1] @ trans) * emit[:, seq[t - 1]]
    return alpha
'''}, "ex03a_forward_test", ZERO, ("check_forward", "forward")),
    S("03a_forward", "forward without the start probabilities", {"ex03a_forward_solution": '''
def forward(start, trans, emit, seq):
    alpha = np.zeros((len(seq), len(start)))
    alpha[0] = emit[:, seq[0]]
    for t in range(1, len(seq)):
        alpha[t] = (alpha[t - 1] @ trans) * emit[:, seq[t]]
    return alpha
'''}, "ex03a_forward_test", ZERO, ("check_forward", "forward")),
    S("03a_forward", "forward pasting the kit's path enumerator", {"ex03a_forward_solution": pasted(
        "_suffix_share", "_prefix_share", "brute_force_hmm") + '''
def forward(start, trans, emit, seq):
    return brute_force_hmm(start, trans, emit, seq)[1]
'''}, "ex03a_forward_test", ZERO),
    S("03a_forward", "log_likelihood in log space with logsumexp", {"ex03a_loglik_solution": '''
def log_likelihood(start, trans, emit, seq):
    la = np.log(start) + np.log(emit[:, seq[0]])
    for x in seq[1:]:
        m = la.max()
        la = m + np.log(np.exp(la - m) @ trans) + np.log(emit[:, x])
    m = la.max()
    return m + np.log(np.exp(la - m).sum())
'''}, "ex03a_loglik_test", FULL, ("check_log_likelihood", "log_likelihood")),
    S("03a_forward", "log_likelihood without scaling (underflows)", {"ex03a_loglik_solution": '''
def log_likelihood(start, trans, emit, seq):
    a = start * emit[:, seq[0]]
    for x in seq[1:]:
        a = (a @ trans) * emit[:, x]
    return float(np.log(a.sum()))
'''}, "ex03a_loglik_test", ZERO, ("check_log_likelihood", "log_likelihood")),
    S("03a_forward", "log_likelihood calling the library", {"ex03a_loglik_solution": '''
from emlab import hmm

def log_likelihood(start, trans, emit, seq):
    return hmm.log_likelihood(hmm.HMM(start, trans, emit), [seq])
'''}, "ex03a_loglik_test", ZERO, ("check_log_likelihood", "log_likelihood")),
    # 03b: backward and posteriors
    S("03b_backward_posteriors", "backward with explicit loops", {"ex03b_backward_solution": '''
def backward(trans, emit, seq):
    T, K = len(seq), len(trans)
    beta = [[1.0] * K for _ in range(T)]
    for t in range(T - 2, -1, -1):
        for i in range(K):
            beta[t][i] = sum(trans[i][j] * emit[j][seq[t + 1]] * beta[t + 1][j] for j in range(K))
    return beta
'''}, "ex03b_backward_test", FULL, ("check_backward", "backward")),
    S("03b_backward_posteriors", "backward with the transposed transitions", {"ex03b_backward_solution": '''
def backward(trans, emit, seq):
    beta = np.ones((len(seq), len(trans)))
    for t in range(len(seq) - 2, -1, -1):
        beta[t] = trans.T @ (emit[:, seq[t + 1]] * beta[t + 1])
    return beta
'''}, "ex03b_backward_test", ZERO, ("check_backward", "backward")),
    S("03b_backward_posteriors", "posteriors with loops over t, i, j", {"ex03b_posteriors_solution": '''
def posteriors(start, trans, emit, seq):
    alpha, beta = forward(start, trans, emit, seq), np.asarray(backward(trans, emit, seq))
    T, K = alpha.shape
    px = alpha[-1].sum()
    gamma = [[alpha[t, k] * beta[t, k] / px for k in range(K)] for t in range(T)]
    xi = np.zeros((T - 1, K, K))
    for t in range(T - 1):
        for i in range(K):
            for j in range(K):
                xi[t, i, j] = alpha[t, i] * trans[i, j] * emit[j, seq[t + 1]] * beta[t + 1, j] / px
    return gamma, xi
'''}, "ex03b_posteriors_test", FULL, ("check_posteriors", "posteriors")),
    S("03b_backward_posteriors", "posteriors not divided by p(x)", {"ex03b_posteriors_solution": '''
def posteriors(start, trans, emit, seq):
    alpha, beta = forward(start, trans, emit, seq), backward(trans, emit, seq)
    gamma = alpha * beta
    xi = alpha[:-1, :, None] * trans[None] * (emit[:, seq[1:]].T * beta[1:])[:, None, :]
    return gamma, xi
'''}, "ex03b_posteriors_test", ZERO, ("check_posteriors", "posteriors")),
    # 03c: counts and the M-step
    S("03c_baum_welch_mstep", "expected_counts with loops over positions", {"ex03c_counts_solution": '''
def expected_counts(posts, seqs, V):
    K = len(posts[0][0][0])
    cs, ct, ce = np.zeros(K), np.zeros((K, K)), np.zeros((K, V))
    for (gamma, xi), seq in zip(posts, seqs):
        cs += gamma[0]
        for t, x in enumerate(seq):
            ce[:, x] += gamma[t]
            if t + 1 < len(seq):
                ct += xi[t]
    return list(cs), ct.tolist(), ce
'''}, "ex03c_counts_test", FULL, ("check_expected_counts", "expected_counts")),
    S("03c_baum_welch_mstep", "expected_counts taking the start counts from every position",
      {"ex03c_counts_solution": '''
def expected_counts(posts, seqs, V):
    K = posts[0][0].shape[1]
    cs, ct, ce = np.zeros(K), np.zeros((K, K)), np.zeros((K, V))
    for (gamma, xi), seq in zip(posts, seqs):
        cs += gamma.sum(axis=0)
        ct += xi.sum(axis=0)
        for t, x in enumerate(seq):
            ce[:, x] += gamma[t]
    return cs, ct, ce
'''}, "ex03c_counts_test", ZERO, ("check_expected_counts", "expected_counts")),
    S("03c_baum_welch_mstep", "m_step in float32 with loops", {"ex03c_mstep_solution": '''
def m_step(start_counts, trans_counts, emit_counts):
    out = []
    for c in (start_counts, trans_counts, emit_counts):
        c = np.asarray(c, np.float32)
        out.append(c / c.sum() if c.ndim == 1 else np.stack([row / row.sum() for row in c]))
    return tuple(out)
'''}, "ex03c_mstep_test", FULL, ("check_m_step_hmm", "m_step")),
    S("03c_baum_welch_mstep", "m_step without keepdims (divides the columns)", {"ex03c_mstep_solution": '''
def m_step(start_counts, trans_counts, emit_counts):
    cs, ct, ce = (np.asarray(a, float) for a in (start_counts, trans_counts, emit_counts))
    return cs / cs.sum(), ct / ct.sum(axis=1), (ce.T / ce.sum(axis=1)).T
'''}, "ex03c_mstep_test", ZERO, ("check_m_step_hmm", "m_step")),
    # 03d: STOP
    S("03d_forward_stop", "forward_stop in log space, lists", {"ex03d_forward_solution": '''
def forward_stop(start, trans, emit, stop, seq):
    la = np.log(start) + np.log(emit[:, seq[0]])
    rows = [la]
    for x in seq[1:]:
        la = np.log(np.exp(la) @ trans) + np.log(emit[:, x])
        rows.append(la)
    alpha = np.exp(np.array(rows))
    return alpha.tolist(), float(np.exp(la) @ stop)
'''}, "ex03d_forward_test", FULL, ("check_forward_stop", "forward_stop")),
    S("03d_forward_stop", "forward_stop in a cell that imports emlab.hmm", {"ex03d_forward_solution": '''
from emlab import hmm  # only to double-check the answer (not available while grading)

def forward_stop(start, trans, emit, stop, seq):
    alpha = np.zeros((len(seq), len(start)))
    alpha[0] = start * emit[:, seq[0]]
    for t in range(1, len(seq)):
        alpha[t] = (alpha[t - 1] @ trans) * emit[:, seq[t]]
    return alpha, float(alpha[-1] @ stop)
'''}, "ex03d_forward_test", ZERO),
    S("03d_forward_stop", "forward_stop forgetting STOP", {"ex03d_forward_solution": '''
def forward_stop(start, trans, emit, stop, seq):
    alpha = np.zeros((len(seq), len(start)))
    alpha[0] = start * emit[:, seq[0]]
    for t in range(1, len(seq)):
        alpha[t] = (alpha[t - 1] @ trans) * emit[:, seq[t]]
    return alpha, alpha[-1].sum()
'''}, "ex03d_forward_test", ZERO, ("check_forward_stop", "forward_stop")),
    S("03d_forward_stop", "backward_stop starting from 1", {"ex03d_backward_solution": '''
def backward_stop(trans, emit, stop, seq):
    beta = np.ones((len(seq), len(stop)))
    for t in range(len(seq) - 2, -1, -1):
        beta[t] = trans @ (emit[:, seq[t + 1]] * beta[t + 1])
    return beta
'''}, "ex03d_backward_test", ZERO, ("check_backward_stop", "backward_stop")),
    S("03d_forward_stop", "m_step_stop by concatenating [trans | stop]", {"ex03d_mstep_solution": '''
def m_step_stop(start_counts, trans_counts, emit_counts, stop_counts):
    both = np.hstack([np.asarray(trans_counts), np.asarray(stop_counts)[:, None]])
    both = both / both.sum(axis=1, keepdims=True)
    ce = np.asarray(emit_counts)
    return (np.asarray(start_counts) / np.sum(start_counts), both[:, :-1], ce / ce.sum(1, keepdims=True),
            both[:, -1])
'''}, "ex03d_mstep_test", FULL, ("check_m_step_stop", "m_step_stop")),
    S("03d_forward_stop", "m_step_stop normalizing trans alone", {"ex03d_mstep_solution": '''
def m_step_stop(start_counts, trans_counts, emit_counts, stop_counts):
    cs, ct, ce, cf = (np.asarray(a, float) for a in (start_counts, trans_counts, emit_counts, stop_counts))
    return cs / cs.sum(), ct / ct.sum(1, keepdims=True), ce / ce.sum(1, keepdims=True), cf / (ct.sum(1) + cf)
'''}, "ex03d_mstep_test", ZERO, ("check_m_step_stop", "m_step_stop")),
    S("03d_forward_stop", "backward_stop by recursion, lists", {"ex03d_backward_solution": '''
def backward_stop(trans, emit, stop, seq):
    def rec(t):
        if t == len(seq) - 1:
            return [list(stop)]
        later = rec(t + 1)
        K = len(stop)
        b = [sum(trans[i][j] * emit[j][seq[t + 1]] * later[0][j] for j in range(K)) for i in range(K)]
        return [b] + later
    return rec(0)
'''}, "ex03d_backward_test", FULL, ("check_backward_stop", "backward_stop")),
    # 03e: Viterbi
    S("03e_viterbi", "viterbi with loops and a list of back-pointer dicts", {"ex03e_viterbi_solution": '''
import math

def viterbi(start, trans, emit, stop, seq):
    K = len(start)
    lg = lambda p: math.log(p) if p > 0 else -math.inf
    delta = [lg(start[k]) + lg(emit[k][seq[0]]) for k in range(K)]
    backs = []
    for x in seq[1:]:
        new, back = [], {}
        for k in range(K):
            j = max(range(K), key=lambda j: delta[j] + lg(trans[j][k]))
            back[k] = j
            new.append(delta[j] + lg(trans[j][k]) + lg(emit[k][x]))
        delta = new
        backs.append(back)
    last = max(range(K), key=lambda k: delta[k] + lg(stop[k]))
    path = [last]
    for back in reversed(backs):
        path.append(back[path[-1]])
    return path[::-1], delta[last] + lg(stop[last])
'''}, "ex03e_viterbi_test", FULL, ("check_viterbi", "viterbi")),
    S("03e_viterbi", "viterbi multiplying probabilities (underflows)", {"ex03e_viterbi_solution": '''
def viterbi(start, trans, emit, stop, seq):
    d = start * emit[:, seq[0]]
    back = []
    for x in seq[1:]:
        s = d[:, None] * trans
        back.append(s.argmax(0))
        d = s.max(0) * emit[:, x]
    d = d * stop
    path = [int(d.argmax())]
    for b in reversed(back):
        path.append(int(b[path[-1]]))
    return np.array(path[::-1]), float(np.log(d.max()))
'''}, "ex03e_viterbi_test", ZERO, ("check_viterbi", "viterbi")),
    S("03e_viterbi", "viterbi forgetting STOP at the end", {"ex03e_viterbi_solution": '''
def viterbi(start, trans, emit, stop, seq):
    d = np.log(start) + np.log(emit[:, seq[0]])
    back = []
    for x in seq[1:]:
        s = d[:, None] + np.log(trans)
        back.append(s.argmax(0))
        d = s.max(0) + np.log(emit[:, x])
    path = [int(d.argmax())]
    for b in reversed(back):
        path.append(int(b[path[-1]]))
    return np.array(path[::-1]), float(d.max())
'''}, "ex03e_viterbi_test", ZERO, ("check_viterbi", "viterbi")),
    S("03e_viterbi", "viterbi pasting the kit's path enumerator", {"ex03e_viterbi_solution": pasted(
        "_path_joint", "brute_force_viterbi") + '''
def viterbi(start, trans, emit, stop, seq):
    return brute_force_viterbi(start, trans, emit, seq, stop=stop)
'''}, "ex03e_viterbi_test", ZERO),
    # 04a: inside
    S("04a_inside", "inside by memoized recursion", {"ex04a_inside_solution": '''
from functools import lru_cache

def inside(binary, lexical, sentence):
    n, N = len(sentence), lexical.shape[0]

    @lru_cache(maxsize=None)
    def beta(i, j):
        if j == i + 1:
            return lexical[:, sentence[i]]
        return sum(np.einsum("abc,b,c->a", binary, beta(i, k), beta(k, j)) for k in range(i + 1, j))

    chart = np.zeros((n + 1, n + 1, N))
    for i in range(n):
        for j in range(i + 1, n + 1):
            chart[i, j] = beta(i, j)
    return chart
'''}, "ex04a_inside_test", FULL, ("check_inside", "inside")),
    S("04a_inside", "inside with only the first split point", {"ex04a_inside_solution": '''
def inside(binary, lexical, sentence):
    n, N = len(sentence), lexical.shape[0]
    chart = np.zeros((n + 1, n + 1, N))
    for i, w in enumerate(sentence):
        chart[i, i + 1] = lexical[:, w]
    for width in range(2, n + 1):
        for i in range(n - width + 1):
            j = i + width
            chart[i, j] = np.einsum("abc,b,c->a", binary, chart[i, i + 1], chart[i + 1, j])
    return chart
'''}, "ex04a_inside_test", ZERO, ("check_inside", "inside")),
    S("04a_inside", "sentence_probability summing every nonterminal", {"ex04a_prob_solution": '''
def sentence_probability(binary, lexical, sentence):
    return float(inside(binary, lexical, sentence)[0, len(sentence)].sum())
'''}, "ex04a_prob_test", ZERO, ("check_sentence_probability", "sentence_probability")),
    S("04a_inside", "sentence_probability with its own chart", {"ex04a_prob_solution": '''
def sentence_probability(binary, lexical, sentence):
    n = len(sentence)
    chart = {(i, i + 1): lexical[:, w] for i, w in enumerate(sentence)}
    for width in range(2, n + 1):
        for i in range(n - width + 1):
            j = i + width
            parts = [np.einsum("abc,b,c->a", binary, chart[i, k], chart[k, j]) for k in range(i + 1, j)]
            chart[i, j] = sum(parts)
    return chart[0, n][0]
'''}, "ex04a_prob_test", FULL, ("check_sentence_probability", "sentence_probability")),
    # 04b: outside
    S("04b_outside_counts", "outside without the right-child term", {"ex04b_outside_solution": '''
def outside(binary, lexical, sentence, inside_chart):
    n, N = len(sentence), binary.shape[0]
    out = np.zeros((n + 1, n + 1, N))
    out[0, n, 0] = 1.0
    for width in range(n, 0, -1):
        for i in range(n - width + 1):
            j = i + width
            for k in range(j + 1, n + 1):
                out[i, j] += np.einsum("a,abc,c->b", out[i, k], binary, inside_chart[j, k])
    return out
'''}, "ex04b_outside_test", ZERO, ("check_outside", "outside")),
    S("04b_outside_counts", "expected_rule_counts not divided by p", {"ex04b_counts_solution": '''
def expected_rule_counts(binary, lexical, sentence):
    n = len(sentence)
    ins = inside(binary, lexical, sentence)
    out = outside(binary, lexical, sentence, ins)
    bc, lc = np.zeros_like(binary), np.zeros_like(lexical)
    for i in range(n):
        for j in range(i + 2, n + 1):
            for k in range(i + 1, j):
                bc += np.einsum("a,b,c->abc", out[i, j], ins[i, k], ins[k, j]) * binary
    for i, w in enumerate(sentence):
        lc[:, w] += out[i, i + 1] * lexical[:, w]
    return bc, lc
'''}, "ex04b_counts_test", ZERO, ("check_expected_rule_counts", "expected_rule_counts")),
    S("04b_outside_counts", "outside with explicit loops over rules", {"ex04b_outside_solution": '''
def outside(binary, lexical, sentence, inside_chart):
    n, N = len(sentence), binary.shape[0]
    out = np.zeros((n + 1, n + 1, N))
    out[0, n, 0] = 1.0
    for width in range(n - 1, 0, -1):
        for i in range(n - width + 1):
            j = i + width
            for A in range(N):
                for B in range(N):
                    for C in range(N):
                        r = binary[A, B, C]
                        for k in range(j + 1, n + 1):
                            out[i, j, B] += out[i, k, A] * r * inside_chart[j, k, C]
                        for k in range(i):
                            out[i, j, C] += out[k, j, A] * r * inside_chart[k, i, B]
    return out.tolist()
'''}, "ex04b_outside_test", FULL, ("check_outside", "outside")),
    S("04b_outside_counts", "expected_rule_counts from span posteriors", {"ex04b_counts_solution": '''
def expected_rule_counts(binary, lexical, sentence):
    n = len(sentence)
    ins = inside(binary, lexical, sentence)
    out = np.asarray(outside(binary, lexical, sentence, ins))
    p = ins[0, n, 0]
    bc = sum(binary * out[i, j][:, None, None] * ins[i, k][None, :, None] * ins[k, j][None, None, :]
             for i in range(n) for j in range(i + 2, n + 1) for k in range(i + 1, j)) / p
    lc = np.zeros_like(lexical)
    for i, w in enumerate(sentence):
        lc[:, w] += out[i, i + 1] * ins[i, i + 1] / p
    return bc, lc
'''}, "ex04b_counts_test", FULL, ("check_expected_rule_counts", "expected_rule_counts")),
    S("04b_outside_counts", "outside pasting the kit's tree enumerator", {"ex04b_outside_solution": pasted(
        "_trees", "brute_force_pcfg", "chart_from_enumeration", "_hole", "outside_reference") + '''
def outside(binary, lexical, sentence, inside_chart):
    return outside_reference(binary, lexical, sentence)
'''}, "ex04b_outside_test", ZERO),
    # 04c: CKY
    S("04c_cky", "cky in log space by recursion", {"ex04c_cky_solution": '''
from functools import lru_cache

def cky(binary, lexical, sentence):
    with np.errstate(divide="ignore"):
        lb, ll = np.log(binary), np.log(lexical)
    N = lexical.shape[0]

    @lru_cache(maxsize=None)
    def best(i, j, A):
        if j == i + 1:
            return ll[A, sentence[i]], (A, int(sentence[i]))
        top = (-np.inf, None)
        for k in range(i + 1, j):
            for B in range(N):
                for C in range(N):
                    if lb[A, B, C] == -np.inf:
                        continue
                    sl, tl = best(i, k, B)
                    sr, tr = best(k, j, C)
                    if lb[A, B, C] + sl + sr > top[0]:
                        top = (lb[A, B, C] + sl + sr, (A, tl, tr))
        return top

    score, tree = best(0, len(sentence), 0)
    return np.exp(score), tree
'''}, "ex04c_cky_test", FULL, ("check_cky", "cky")),
    S("04c_cky", "cky summing instead of maximizing", {"ex04c_cky_solution": '''
def cky(binary, lexical, sentence):
    n, N = len(sentence), lexical.shape[0]
    chart = np.zeros((n + 1, n + 1, N))
    back = {}
    for i, w in enumerate(sentence):
        chart[i, i + 1] = lexical[:, w]
    for width in range(2, n + 1):
        for i in range(n - width + 1):
            j = i + width
            for k in range(i + 1, j):
                s = binary * chart[i, k][None, :, None] * chart[k, j][None, None, :]
                chart[i, j] += s.sum(axis=(1, 2))
                for A in range(N):
                    B, C = np.unravel_index(s[A].argmax(), s[A].shape)
                    back[i, j, A] = (k, B, C)

    def tree(i, j, A):
        if j == i + 1:
            return (A, int(sentence[i]))
        k, B, C = back[i, j, A]
        return (A, tree(i, k, B), tree(k, j, C))

    return chart[0, n, 0], tree(0, n, 0)
'''}, "ex04c_cky_test", ZERO, ("check_cky", "cky")),
    S("04c_cky", "cky pasting the kit's tree enumerator", {"ex04c_cky_solution": pasted(
        "_tree_list", "best_tree_reference") + '''
def cky(binary, lexical, sentence):
    return best_tree_reference(binary, lexical, sentence)
'''}, "ex04c_cky_test", ZERO),
    # 04d: PCFG M-step
    S("04d_pcfg_m_step", "pcfg_m_step with a loop over left-hand sides, lists", {"ex04d_mstep_solution": '''
def pcfg_m_step(binary_counts, lexical_counts):
    bc, lc = np.array(binary_counts, float), np.array(lexical_counts, float)
    for A in range(len(bc)):
        total = bc[A].sum() + lc[A].sum()
        if total > 0:
            bc[A] /= total
            lc[A] /= total
    return bc.tolist(), lc.tolist()
'''}, "ex04d_mstep_test", FULL, ("check_pcfg_m_step", "pcfg_m_step")),
    S("04d_pcfg_m_step", "pcfg_m_step normalizing binary, lexical apart", {"ex04d_mstep_solution": '''
def pcfg_m_step(binary_counts, lexical_counts):
    bc, lc = np.asarray(binary_counts, float), np.asarray(lexical_counts, float)
    tb = np.maximum(bc.sum(axis=(1, 2), keepdims=True), 1e-300)
    tl = np.maximum(lc.sum(axis=1, keepdims=True), 1e-300)
    return bc / tb, lc / tl
'''}, "ex04d_mstep_test", ZERO, ("check_pcfg_m_step", "pcfg_m_step")),
    # 05: stopping and the rate
    S("05_convergence", "run_em with a while loop", {"ex05_run_em_solution": '''
def run_em(step, loglik, theta0, tol=1e-8, max_iter=500):
    theta, lls, it = theta0, [loglik(theta0)], 0
    while it < max_iter:
        theta = step(theta)
        lls.append(loglik(theta))
        it += 1
        if abs((lls[-1] - lls[-2]) / lls[-2]) < tol:
            break
    return theta, np.array(lls)
'''}, "ex05_run_em_test", FULL, ("check_run_em", "run_em")),
    S("05_convergence", "run_em stopping on the absolute change", {"ex05_run_em_solution": '''
def run_em(step, loglik, theta0, tol=1e-8, max_iter=500):
    theta, lls = theta0, [loglik(theta0)]
    for _ in range(max_iter):
        theta = step(theta)
        lls.append(loglik(theta))
        if abs(lls[-1] - lls[-2]) < tol:
            break
    return theta, lls
'''}, "ex05_run_em_test", ZERO, ("check_run_em", "run_em")),
    S("05_convergence", "run_em without the starting log-likelihood", {"ex05_run_em_solution": '''
def run_em(step, loglik, theta0, tol=1e-8, max_iter=500):
    theta, previous, lls = theta0, loglik(theta0), []
    for _ in range(max_iter):
        theta = step(theta)
        lls.append(loglik(theta))
        if abs(lls[-1] - previous) / abs(previous) < tol:
            break
        previous = lls[-1]
    return theta, lls
'''}, "ex05_run_em_test", ZERO, ("check_run_em", "run_em")),
    S("05_convergence", "estimate_rate vectorized", {"ex05_rate_solution": '''
def estimate_rate(lls):
    lls = np.asarray(lls)
    gaps = lls[-1] - lls
    ok = gaps > 1e-9 * abs(lls[-1])
    both = ok[:-1] & ok[1:]
    return np.sqrt(np.median(gaps[1:][both] / gaps[:-1][both]))
'''}, "ex05_rate_test", FULL, ("check_estimate_rate", "estimate_rate")),
    S("05_convergence", "estimate_rate with the mean", {"ex05_rate_solution": '''
def estimate_rate(lls):
    lls = np.asarray(lls)
    gaps = lls[-1] - lls
    ok = gaps > 1e-9 * abs(lls[-1])
    both = ok[:-1] & ok[1:]
    return np.sqrt(np.mean(gaps[1:][both] / gaps[:-1][both]))
'''}, "ex05_rate_test", ZERO, ("check_estimate_rate", "estimate_rate")),
    S("05_convergence", "estimate_rate returning r squared", {"ex05_rate_solution": '''
def estimate_rate(lls):
    lls = np.asarray(lls)
    gaps = lls[-1] - lls
    ok = gaps > 1e-9 * abs(lls[-1])
    both = ok[:-1] & ok[1:]
    return np.median(gaps[1:][both] / gaps[:-1][both])
'''}, "ex05_rate_test", ZERO, ("check_estimate_rate", "estimate_rate")),
    # 06: restarts (uses emlab) and a written answer
    S("06_restarts", "random_init drawing emit before trans", {"ex06_init_solution": '''
def random_init(K, V, rng):
    start = rng.dirichlet(np.ones(K))
    emit = np.array([rng.dirichlet(np.ones(V)) for _ in range(K)])
    trans = np.array([rng.dirichlet(np.ones(K)) for _ in range(K)])
    return hmm.HMM(start, trans, emit)
'''}, "ex06_init_test", ZERO, ("check_random_init", "random_init")),
    S("06_restarts", "random_init with size=K draws", {"ex06_init_solution": '''
def random_init(K, V, rng):
    start = rng.dirichlet(np.ones(K))
    return hmm.HMM(start, rng.dirichlet(np.ones(K), size=K), rng.dirichlet(np.ones(V), size=K))
'''}, "ex06_init_test", FULL, ("check_random_init", "random_init")),
    S("06_restarts", "random_init with a uniform emit", {"ex06_init_solution": '''
def random_init(K, V, rng):
    start = rng.dirichlet(np.ones(K))
    trans = np.array([rng.dirichlet(np.ones(K)) for _ in range(K)])
    return hmm.HMM(start, trans, np.full((K, V), 1.0 / V))
'''}, "ex06_init_test", ZERO, ("check_random_init", "random_init")),
    S("06_restarts", "restart_finals with a fresh generator per restart", {"ex06_restarts_solution": '''
def restart_finals(seqs, n, rng):
    finals = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            finals.append(em.fit(random_init(K, V, np.random.default_rng(i)), seqs, max_iter=300, tol=1e-9)
                          .log_likelihoods[-1])
    return np.array(finals)
'''}, "ex06_restarts_test", ZERO, ("check_restart_finals", "restart_finals")),
    Submission("06_restarts", "the written answer in a new markdown cell below the answer cell", {},
               {"ex06_interpretation": "manual"},
               markdown_after={"ex06_interpretation": "No: the restarts end at several different values, so "
                               "the likelihood has several local maxima; keep the best of many restarts."}),
    Submission("06_restarts", "the written answer below the placeholder, in its cell", {},
               {"ex06_interpretation": "manual"},
               written={"ex06_interpretation": "YOUR ANSWER HERE\n\nNo: the restarts end at different "
                        "values, so the likelihood has several local maxima; keep the best of "
                        "many restarts."}),
    # 07: hard EM and k-means
    S("07_hard_em", "hard_e_step with products, returning lists", {"ex07_hard_e_solution": '''
def hard_e_step(theta_a, theta_b, heads, flips):
    out = []
    for h, n in zip(heads, flips):
        pa = theta_a ** h * (1 - theta_a) ** (n - h)
        pb = theta_b ** h * (1 - theta_b) ** (n - h)
        out.append([1, 0] if pa >= pb else [0, 1])
    return out
'''}, "ex07_hard_e_test", FULL, ("check_hard_e_step", "hard_e_step")),
    S("07_hard_em", "hard_e_step by the log-likelihood ratio", {"ex07_hard_e_solution": '''
def hard_e_step(theta_a, theta_b, heads, flips):
    heads, flips = np.asarray(heads), np.asarray(flips)
    llr = heads * np.log(theta_a / theta_b) + (flips - heads) * np.log((1 - theta_a) / (1 - theta_b))
    return np.stack([llr >= 0, llr < 0], axis=1).astype(int)
'''}, "ex07_hard_e_test", FULL, ("check_hard_e_step", "hard_e_step")),
    S("07_hard_em", "hard_e_step in exponential-family form", {"ex07_hard_e_solution": '''
import math

def hard_e_step(theta_a, theta_b, heads, flips):
    def score(t, h, n):
        return h * math.log(t / (1 - t)) + n * math.log(1 - t)
    return [[1, 0] if score(theta_a, h, n) >= score(theta_b, h, n) else [0, 1] for h, n in zip(heads, flips)]
'''}, "ex07_hard_e_test", FULL, ("check_hard_e_step", "hard_e_step")),
    S("07_hard_em", "hard_e_step sending ties to coin B", {"ex07_hard_e_solution": '''
def hard_e_step(theta_a, theta_b, heads, flips):
    heads, flips = np.asarray(heads, float), np.asarray(flips, float)
    la = heads * np.log(theta_a) + (flips - heads) * np.log(1 - theta_a)
    lb = heads * np.log(theta_b) + (flips - heads) * np.log(1 - theta_b)
    return np.stack([la > lb, la <= lb], axis=1).astype(float)
'''}, "ex07_hard_e_test", ZERO, ("check_hard_e_step", "hard_e_step")),
    S("07_hard_em", "hard_em turning an unused coin into NaN", {"ex07_hard_em_solution": '''
def hard_em(theta0, heads, flips, n_iter):
    heads, flips = np.asarray(heads, float), np.asarray(flips, float)
    theta = np.array(theta0, float)

    def objective(theta):
        ll = np.stack([np.log(0.5) + heads * np.log(t) + (flips - heads) * np.log(1 - t) for t in theta], 1)
        return float(ll.max(axis=1).sum())

    objectives = [objective(theta)]
    for _ in range(n_iter):
        z = np.asarray(hard_e_step(theta[0], theta[1], heads, flips), float)
        with np.errstate(invalid="ignore"):
            theta = (z.T @ heads) / (z.T @ flips)
        objectives.append(objective(theta))
    return theta, objectives
'''}, "ex07_hard_em_test", ZERO, ("check_hard_em", "hard_em")),
    S("07_hard_em", "hard_em with loops over the sets", {"ex07_hard_em_solution": '''
import math

def hard_em(theta0, heads, flips, n_iter):
    theta = list(theta0)

    def ll(t, h, n):
        return math.log(0.5) + h * math.log(t) + (n - h) * math.log(1 - t)

    def objective(theta):
        return sum(max(ll(t, h, n) for t in theta) for h, n in zip(heads, flips))

    objectives = [objective(theta)]
    for _ in range(n_iter):
        z = hard_e_step(theta[0], theta[1], heads, flips)
        for c in range(2):
            tosses = sum(zi[c] * n for zi, n in zip(z, flips))
            if tosses > 0:
                theta[c] = sum(zi[c] * h for zi, h in zip(z, heads)) / tosses
        objectives.append(objective(theta))
    return theta, objectives
'''}, "ex07_hard_em_test", FULL, ("check_hard_em", "hard_em")),
    S("07_hard_em", "kmeans_step with loops, lists", {"ex07_kmeans_solution": '''
def kmeans_step(X, centres):
    labels = []
    for x in X:
        d = [sum((a - b) ** 2 for a, b in zip(x, c)) for c in centres]
        labels.append(d.index(min(d)))
    new = []
    for k, c in enumerate(centres):
        members = [x for x, z in zip(X, labels) if z == k]
        new.append(list(np.mean(members, axis=0)) if members else list(c))
    return labels, new
'''}, "ex07_kmeans_test", FULL, ("check_kmeans_step", "kmeans_step")),
    S("07_hard_em", "kmeans_step turning an empty cluster into NaN", {"ex07_kmeans_solution": '''
def kmeans_step(X, centres):
    X, centres = np.asarray(X, float), np.asarray(centres, float)
    labels = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    with np.errstate(invalid="ignore"):
        new = np.array([X[labels == k].mean(axis=0) for k in range(len(centres))])
    return labels, new
'''}, "ex07_kmeans_test", ZERO, ("check_kmeans_step", "kmeans_step")),
    # 07c: Viterbi training
    S("07c_viterbi_training", "path_counts with plain loops, lists", {"ex07c_counts_solution": '''
def path_counts(paths, seqs, K, V):
    cs, ct, ce = [0] * K, [[0] * K for _ in range(K)], [[0] * V for _ in range(K)]
    for path, seq in zip(paths, seqs):
        cs[path[0]] += 1
        for t in range(len(path)):
            ce[path[t]][seq[t]] += 1
            if t:
                ct[path[t - 1]][path[t]] += 1
    return cs, ct, ce
'''}, "ex07c_counts_test", FULL, ("check_path_counts", "path_counts")),
    S("07c_viterbi_training", "path_counts with the transitions transposed", {"ex07c_counts_solution": '''
def path_counts(paths, seqs, K, V):
    cs, ct, ce = np.zeros(K), np.zeros((K, K)), np.zeros((K, V))
    for path, seq in zip(paths, seqs):
        cs[path[0]] += 1
        for t in range(len(path)):
            ce[path[t], seq[t]] += 1
            if t:
                ct[path[t], path[t - 1]] += 1
    return cs, ct, ce
'''}, "ex07c_counts_test", ZERO, ("check_path_counts", "path_counts")),
    S("07c_viterbi_training", "viterbi_training with NaN rows", {"ex07c_training_solution": '''
def viterbi_training(start, trans, emit, seqs, n_iter):
    params = [np.asarray(a, float) for a in (start, trans, emit)]
    K, V = params[2].shape
    for _ in range(n_iter):
        paths = [viterbi(*params, x)[0] for x in seqs]
        cs, ct, ce = path_counts(paths, seqs, K, V)
        with np.errstate(invalid="ignore"):
            params = [cs / cs.sum(), ct / ct.sum(1, keepdims=True), ce / ce.sum(1, keepdims=True)]
    return tuple(params)
'''}, "ex07c_training_test", ZERO, ("check_viterbi_training", "viterbi_training")),
    S("07c_viterbi_training", "viterbi_training with explicit row loops", {"ex07c_training_solution": '''
def viterbi_training(start, trans, emit, seqs, n_iter):
    start, trans, emit = (np.array(a, float) for a in (start, trans, emit))
    K, V = emit.shape
    for _ in range(n_iter):
        paths = [viterbi(start, trans, emit, x)[0] for x in seqs]
        cs, ct, ce = (np.asarray(c, float) for c in path_counts(paths, seqs, K, V))
        start = cs / cs.sum()
        for i in range(K):
            if ct[i].sum() > 0:
                trans[i] = ct[i] / ct[i].sum()
            if ce[i].sum() > 0:
                emit[i] = ce[i] / ce[i].sum()
    return start, trans, emit
'''}, "ex07c_training_test", FULL, ("check_viterbi_training", "viterbi_training")),
    # 08a: the gradient identity
    S("08a_gradient_identity", "logit_gradient by a loop, log space", {"ex08a_gradient_solution": '''
def logit_gradient(eta, heads, flips):
    theta = sigmoid(eta)
    g = [0.0, 0.0]
    for h, n in zip(heads, flips):
        ll = [h * np.log(t) + (n - h) * np.log(1 - t) for t in theta]
        m = max(ll)
        r = [np.exp(v - m) / sum(np.exp(w - m) for w in ll) for v in ll]
        for c in range(2):
            g[c] += r[c] * (h - n * theta[c])
    return g
'''}, "ex08a_gradient_test", FULL, ("check_logit_gradient", "logit_gradient")),
    S("08a_gradient_identity", "logit_gradient without the model counts", {"ex08a_gradient_solution": '''
def logit_gradient(eta, heads, flips):
    theta = sigmoid(eta)
    like = np.stack([t ** heads * (1 - t) ** (flips - heads) for t in theta], axis=1)
    r = like / like.sum(axis=1, keepdims=True)
    return r.T @ heads
'''}, "ex08a_gradient_test", ZERO, ("check_logit_gradient", "logit_gradient")),
    # 07b: FFBS
    S("07b_ffbs", "sample_paths with rng.random and cumulative sums", {"ex07b_sample_solution": '''
def sample_paths(start, trans, emit, seq, n, rng):
    alpha = forward(start, trans, emit, seq)
    T, K = alpha.shape
    out = np.zeros((n, T), dtype=np.int64)
    for s in range(n):
        for t in range(T - 1, -1, -1):
            w = alpha[t] if t == T - 1 else alpha[t] * trans[:, out[s, t + 1]]
            cdf = np.cumsum(w / w.sum())
            out[s, t] = min(int(np.searchsorted(cdf, rng.random())), K - 1)
    return out
'''}, "ex07b_sample_test", FULL, ("check_sample_paths", "sample_paths")),
    S("07b_ffbs", "sample_paths drawing every state from its own marginal", {"ex07b_sample_solution": '''
def sample_paths(start, trans, emit, seq, n, rng):
    alpha = forward(start, trans, emit, seq)
    beta = np.ones_like(alpha)
    for t in range(len(seq) - 2, -1, -1):
        beta[t] = trans @ (emit[:, seq[t + 1]] * beta[t + 1])
    gamma = alpha * beta / alpha[-1].sum()
    return np.stack([rng.choice(len(start), size=n, p=g / g.sum()) for g in gamma], axis=1)
'''}, "ex07b_sample_test", ZERO, ("check_sample_paths", "sample_paths")),
    S("07b_ffbs", "sample_paths ignoring rng (numpy's global generator)", {"ex07b_sample_solution": '''
def sample_paths(start, trans, emit, seq, n, rng):
    alpha = forward(start, trans, emit, seq)
    T, K = alpha.shape
    paths = np.zeros((n, T), dtype=int)
    for s in range(n):
        paths[s, -1] = np.random.choice(K, p=alpha[-1] / alpha[-1].sum())
        for t in range(T - 2, -1, -1):
            p = alpha[t] * trans[:, paths[s, t + 1]]
            paths[s, t] = np.random.choice(K, p=p / p.sum())
    return paths
'''}, "ex07b_sample_test", ZERO, ("check_sample_paths", "sample_paths")),
    S("07b_ffbs", "sample_paths ignoring rng (each path floor(n p) times, by enumeration)",
      {"ex07b_sample_solution": pasted("_path_joint", "path_posteriors") + '''
def sample_paths(start, trans, emit, seq, n, rng):
    ranked = sorted(path_posteriors(start, trans, emit, seq).items(), key=lambda kv: -kv[1])
    rows = [path for path, p in ranked for _ in range(int(n * p))]
    rows += [ranked[0][0]] * (n - len(rows))
    return np.array(rows, dtype=int).reshape(n, len(seq))
'''}, "ex07b_sample_test", ZERO, ("check_sample_paths", "sample_paths")),
    # honest forms the grader's wire once lost (found by an adversarial probe): each must earn full marks
    S("07b_ffbs", "one child stream per path from rng.spawn", {"ex07b_sample_solution": '''
def sample_paths(start, trans, emit, seq, n, rng):
    trans = np.asarray(trans, float)
    alpha = forward(np.asarray(start, float), trans, np.asarray(emit, float), np.asarray(seq, int))
    T, K = alpha.shape
    paths = np.zeros((n, T), dtype=int)
    for s, child in enumerate(rng.spawn(n)):
        paths[s, -1] = child.choice(K, p=alpha[-1] / alpha[-1].sum())
        for t in range(T - 2, -1, -1):
            p = alpha[t] * trans[:, paths[s, t + 1]]
            paths[s, t] = child.choice(K, p=p / p.sum())
    return paths
'''}, "ex07b_sample_test", FULL, check=("check_sample_paths", "sample_paths")),
    S("01_lagrangian_sympy", "Hessian as derive_by_array's N-dim array", {"ex01_hessian_solution": '''
def hessian(K):
    theta = sp.symbols(f"theta_1:{K+1}")
    c = sp.symbols(f"c_1:{K+1}")
    lam = sp.Symbol("lambda")
    L = sum(ck * sp.log(tk) for ck, tk in zip(c, theta)) - lam * (sum(theta) - 1)
    return sp.derive_by_array(sp.derive_by_array(L, theta), theta)
'''}, "ex01_hessian_test", FULL),
    S("01_lagrangian_sympy", "Hessian as a SparseMatrix", {"ex01_hessian_solution": '''
def hessian(K):
    theta = sp.symbols(f"theta_1:{K+1}")
    c = sp.symbols(f"c_1:{K+1}")
    return sp.SparseMatrix(K, K, {(k, k): -c[k] / theta[k] ** 2 for k in range(K)})
'''}, "ex01_hessian_test", FULL),
    S("05_convergence", "log-likelihoods kept in a deque", {"ex05_run_em_solution": '''
from collections import deque


def run_em(step, loglik, theta0, tol=1e-8, max_iter=500):
    theta = theta0
    lls = deque([loglik(theta)])
    for _ in range(max_iter):
        theta = step(theta)
        lls.append(loglik(theta))
        if abs(lls[-1] - lls[-2]) / abs(lls[-2]) < tol:
            break
    return theta, lls
'''}, "ex05_run_em_test", FULL),
    S("02_two_coins_em", "M-step in exact fractions", {"ex02_m_step_solution": '''
from fractions import Fraction


def m_step(resp, heads, flips):
    resp = np.asarray(resp, dtype=float)
    ra = [Fraction(float(r[0])) for r in resp]
    rb = [Fraction(float(r[1])) for r in resp]
    ta = sum(r * int(h) for r, h in zip(ra, heads)) / sum(r * int(n) for r, n in zip(ra, flips))
    tb = sum(r * int(h) for r, h in zip(rb, heads)) / sum(r * int(n) for r, n in zip(rb, flips))
    return ta, tb
'''}, "ex02_m_step_test", FULL),
]


EXERCISES = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
UNTOUCHED = "the exercise as released, nothing written"
CLASS += [Submission(name, "the master's answers", {}, {}) for name in EXERCISES]
CLASS += [Submission(name, UNTOUCHED, {}, {}) for name in EXERCISES]

# ------------------------------------------------------------------------------- building

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _master_answers(exercise: str) -> dict[str, str]:
    """The master's answer cells without the solution markers (what an honest student writes)."""
    nb = nbformat.read(str(ROOT / "solutions" / f"{exercise}.ipynb"), as_version=4)
    return {
        _meta(c)["grade_id"]: "\n".join(ln for ln in c.source.splitlines() if not _MARKER.match(ln))
        for c in nb.cells
        if _meta(c).get("solution")
    }


def _notebook(sub: Submission):
    nb = nbformat.read(str(ROOT / "exercises" / f"{sub.exercise}.ipynb"), as_version=4)
    answers = {} if sub.label == UNTOUCHED else {**_master_answers(sub.exercise), **sub.answers}
    cells = []
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid in answers and cell.cell_type == "code":
            cell.source = answers[gid]
        if gid in sub.written:
            cell.source = sub.written[gid]
        cells.append(cell)
        if gid in sub.markdown_after:
            if cell.cell_type == "markdown":
                cell.source = "YOUR ANSWER HERE"
            cells.append(nbformat.v4.new_markdown_cell(sub.markdown_after[gid]))
    nb.cells = cells
    return nb, answers


def _sid(i: int) -> str:
    return f"s{i:03d}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the whole class in one run of tools/grade.py; {submission index: {grade id: item}}."""
    base = tmp_path_factory.mktemp("class")
    subs, out = base / "submissions", base / "out"
    for i, sub in enumerate(CLASS):
        folder = subs / _sid(i)
        folder.mkdir(parents=True)
        nbformat.write(_notebook(sub)[0], str(folder / f"{sub.exercise}.ipynb"))
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "grade.py"), str(subs), str(out), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = {}
    for i, sub in enumerate(CLASS):
        (folder,) = (out / "results").glob(f"{_sid(i)}-*")
        data = json.loads((folder / f"{sub.exercise}.json").read_text())
        results[i] = ({item["grade_id"]: item for item in data["items"]}, data)
    return results


#: Items whose function the task allows to call another answer (item -> that answer's cell, function).
COUPLED = {
    "ex03b_posteriors_test": ("ex03b_backward_solution", "backward"),
    "ex04a_prob_test": ("ex04a_inside_solution", "inside"),
    "ex04b_counts_test": ("ex04b_outside_solution", "outside"),
    "ex06_restarts_test": ("ex06_init_solution", "random_init"),
    "ex07_hard_em_test": ("ex07_hard_e_solution", "hard_e_step"),
    "ex07c_training_test": ("ex07c_counts_solution", "path_counts"),
}


@pytest.mark.parametrize("i", range(len(CLASS)), ids=[f"{s.exercise}: {s.label}" for s in CLASS])
def test_every_submission_is_graded_fairly(graded, i):
    sub = CLASS[i]
    items, data = graded[i]
    if sub.label == UNTOUCHED:
        assert all(item["score"] in (0, None) for item in items.values()), items
        return
    for gid, item in items.items():  # every other answer is the master's: it keeps its marks
        if gid in sub.expect:
            continue
        if item["status"] == "manual":
            continue
        if gid in COUPLED and COUPLED[gid][0] in sub.answers:
            if item["score"] == 0:  # it may fail with its helper, and then says which helper to fix
                assert f"fix {COUPLED[gid][1]} first" in item["message"], item
            continue
        assert item["score"] == item["max"], (sub.label, item)
    for gid, verdict in sub.expect.items():
        item = items[gid]
        if verdict == FULL:
            assert item["score"] == item["max"], (sub.label, item)
        elif verdict == ZERO:
            assert item["score"] == 0 and item["message"], (sub.label, item)
            assert GRADER_SAYS.get(sub.label, "") in item["message"], (sub.label, item)
        else:  # a written answer: waiting for the instructor, with the text found
            assert item["status"] == "manual" and item["score"] is None, item
            answer = data["manual_answers"][gid]
            assert "local maxima" in answer and "YOUR ANSWER HERE" not in answer, answer
            if gid in sub.written:  # in its cell: nothing to remark
                assert gid not in data["manual_flags"], data["manual_flags"]
            else:
                assert data["manual_flags"][gid] == "answer found outside its cell"


#: What the grader's message says for a mistake the visible check cannot see.
GRADER_SAYS = {
    **{s.label: "write the dynamic program" for s in CLASS if "pasting the kit's" in s.label},
    "sample_paths ignoring rng (each path floor(n p) times, by enumeration)": "different seeds",
    "random_init with a uniform emit": "emit is uniform",
    "run_em without the starting log-likelihood": "lls[0] is missing",
    "forward_stop in a cell that imports emlab.hmm": "cell 4 raised ImportError (line 2), which may "
    "have stopped before defining it (while grading, only the modules the notebook's header names can be "
    "imported)",
}


def _visible_check(sub: Submission):
    """Run the visible check of ``sub``'s function in this process, as the student's kernel does."""
    master = nbformat.read(str(ROOT / "solutions" / f"{sub.exercise}.ipynb"), as_version=4)
    ns: dict = {}
    _, answers = _notebook(sub)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in master.cells:
            gid = _meta(cell).get("grade_id", "")
            if cell.cell_type != "code" or not gid:
                continue
            if gid.endswith("_setup"):
                source = "\n".join(ln for ln in cell.source.splitlines() if not ln.startswith("%"))
                exec(compile(source, gid, "exec"), ns)  # noqa: S102 - our own notebook
            elif _meta(cell).get("solution"):
                exec(compile(answers[gid], gid, "exec"), ns)  # noqa: S102 - our own submission
        check, fn = sub.check
        extra = {"check_outside": (ns.get("inside"),), "check_restart_finals": ([ns.get("days")],)}
        result = getattr(checks, check)(ns[fn], *extra.get(check, ()))
    return result, out.getvalue()


CHECKED = [i for i, s in enumerate(CLASS) if s.check]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the wrong answers divide by zero, on purpose
@pytest.mark.parametrize("i", CHECKED, ids=[f"{CLASS[i].exercise}: {CLASS[i].label}" for i in CHECKED])
def test_the_visible_check_already_tells(i):
    sub = CLASS[i]
    result, printed = _visible_check(sub)
    (verdict,) = sub.expect.values()
    if verdict == FULL:
        assert result.passed and printed.startswith("✔"), printed
    else:
        assert not result.passed and "✘" in printed and "case" in printed, printed
        assert "np.float64" not in printed and "array(" not in printed, printed
        if sub.label in DIAGNOSES:
            assert DIAGNOSES[sub.label] in printed, printed


#: What the visible check names for a mistake it can recognise.
DIAGNOSES = {
    "e_step assuming 10 tosses per set": "not 10 here",
    "m_step hard-coding 10 tosses per set": "counted as 10 tosses",
    "forward with the previous symbol's emission": "previous symbol",
    "forward without the start probabilities": "start probabilities",
    "log_likelihood without scaling (underflows)": "underflowed",
    "log_likelihood calling the library": "sandbox does not provide",
    "m_step without keepdims (divides the columns)": "keepdims=True",
    "forward_stop forgetting STOP": "STOP probabilities are missing",
    "backward_stop starting from 1": "STOP probabilities are missing",
    "m_step_stop normalizing trans alone": "[trans | stop] is one categorical",
    "viterbi multiplying probabilities (underflows)": "underflowed",
    "viterbi forgetting STOP at the end": "without the STOP factor",
    "sentence_probability summing every nonterminal": "only the root",
    "cky summing instead of maximizing": "CKY takes the max",
    "pcfg_m_step normalizing binary, lexical apart": "share one total",
    "run_em stopping on the absolute change": "absolute change",
    "estimate_rate with the mean": "take the median",
    "estimate_rate returning r squared": "square root",
    "kmeans_step turning an empty cluster into NaN": "NaN",
    "hard_em turning an unused coin into NaN": "NaN",
    "sample_paths drawing every state from its own marginal": "their joint draw does not",
    "sample_paths ignoring rng (numpy's global generator)": "same seed",
    "sample_paths ignoring rng (each path floor(n p) times, by enumeration)": "different seeds",
    "random_init with a uniform emit": "emit",
    "path_counts with the transitions transposed": "transposed",
    "logit_gradient without the model counts": "model counts",
    "q_function with hard assignments": "weight by resp",
    "gem_step with alpha and 1 - alpha swapped": "swapped",
}


def test_diagnoses_name_real_submissions():
    assert set(DIAGNOSES) <= {s.label for s in CLASS}


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        ("lambda start, trans, emit, seq: None", "returned nothing"),
        ("lambda start, trans, emit, seq: np.zeros((len(start), len(seq)))", "transposed"),
        ("lambda start, trans, emit, seq: np.log(checks.brute_force_hmm(start, trans, emit, seq)[1])",
         "log space"),
    ],
)
def test_the_forward_check_recognises_common_slips(answer, phrase, capsys):
    import numpy as np

    fn = eval(answer, {"np": np, "checks": checks})  # noqa: S307 - our own test input
    result = checks.check_forward(fn)
    assert not result.passed and phrase in capsys.readouterr().out


def test_the_class_covers_every_exercise_with_an_honest_and_a_wrong_answer():
    names = {p.stem for p in (ROOT / "solutions").glob("*.ipynb")}
    honest = {s.exercise for s in CLASS if FULL in s.expect.values()}
    wrong = {s.exercise for s in CLASS if ZERO in s.expect.values()}
    assert wrong == names, names - wrong
    assert honest == names, names - honest
