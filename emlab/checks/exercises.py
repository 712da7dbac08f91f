"""The student-facing check of every exercise function: each runs the student's function on tiny
cases built to expose the common mistakes and prints a ✔ or the failing case (expected vs got)."""

from __future__ import annotations

import numpy as np

from .references import (
    COINS_FLIPS,
    COINS_HEADS,
    MS_GRAMMAR,
    _hmm_cases,
    brute_force_hmm,
    brute_force_pcfg,
    chart_from_enumeration,
    coins_posterior,
    hmm_expected_counts_reference,
    outside_reference,
    posteriors_of,
    random_hmm,
    sympy_value,
)
from .runner import Case, CheckResult, compare_array, compare_scalar, compare_tuple, run_cases


def check_solve_lagrangian(solve_lagrangian) -> CheckResult:
    """Exercise 01: ``solve_lagrangian(K)`` -> dict {theta_k: ..., lambda: ...} (SymPy)."""
    cases = []
    for K in (2, 3):
        counts = {f"c_{k}": float(v) for k, v in enumerate([3, 5, 2][:K], start=1)}
        N = sum(counts.values())

        def compare(sol, K=K, counts=counts, N=N):
            if not isinstance(sol, dict):
                return f"should return a dict {{symbol: solution}}, got {type(sol).__name__}"
            names = {getattr(k, "name", str(k)): v for k, v in sol.items()}
            for k in range(1, K + 1):
                if f"theta_{k}" not in names:
                    return f"no solution for theta_{k}; keys are {sorted(names)}"
                got = sympy_value(names[f"theta_{k}"], counts)
                want = counts[f"c_{k}"] / N
                if abs(got - want) > 1e-9:
                    return (
                        f"theta_{k} = {names[f'theta_{k}']} gives {got.real:.6g} with counts "
                        f"{list(counts.values())}; expected c_{k}/N = {want:.6g}"
                    )
            lam = names.get("lambda")
            if lam is None:
                return f"no solution for lambda; keys are {sorted(names)}"
            if abs(sympy_value(lam, counts) - N) > 1e-9:
                return f"lambda = {lam}; expected the total count N = c_1 + ... + c_{K}"
            return None

        cases.append(Case(f"K = {K}", lambda K=K: solve_lagrangian(K), compare))
    return run_cases("solve_lagrangian", cases, "the closed form theta_k = c_k / N, lambda = N")


def check_hessian(hessian) -> CheckResult:
    """Exercise 01: ``hessian(K)`` -> the K x K SymPy matrix of second derivatives of L in theta."""
    cases = []
    for K in (2, 3):
        values = {f"theta_{k}": 0.1 * k for k in range(1, K + 1)}
        values.update({f"c_{k}": float(k + 1) for k in range(1, K + 1)})
        values["lambda"] = 2.0
        want = np.diag([-(k + 1) / (0.1 * k) ** 2 for k in range(1, K + 1)])

        def compare(H, K=K, values=values, want=want):
            try:
                shape = tuple(H.shape)
            except AttributeError:
                return f"should return a SymPy Matrix, got {type(H).__name__}"
            if shape != (K, K):
                return f"should be {K} x {K}, got shape {shape}"
            got = np.array([[sympy_value(H[i, j], values).real for j in range(K)] for i in range(K)])
            return compare_array(want, "H at theta=(0.1, 0.2, ...), c=(2, 3, ...)")(got)

        cases.append(Case(f"K = {K}", lambda K=K: hessian(K), compare))
    return run_cases("hessian", cases, "diag(-c_k / theta_k^2)")


def check_coins_e_step(e_step) -> CheckResult:
    cases = [
        Case(
            f"theta = ({a}, {b}), Do & Batzoglou's tosses",
            lambda a=a, b=b: e_step(a, b, COINS_HEADS, COINS_FLIPS),
            compare_array(coins_posterior(a, b, COINS_HEADS, COINS_FLIPS), "responsibilities"),
        )
        for a, b in [(0.6, 0.5), (0.3, 0.9)]
    ]
    return run_cases("e_step", cases, "Bayes' rule")


def check_coins_m_step(m_step) -> CheckResult:
    cases = []
    for a, b in [(0.6, 0.5), (0.3, 0.9)]:
        r = coins_posterior(a, b, COINS_HEADS, COINS_FLIPS)
        want = (r.T @ COINS_HEADS) / (r.T @ COINS_FLIPS)
        cases.append(
            Case(
                f"responsibilities from theta = ({a}, {b})",
                lambda r=r: tuple(m_step(r, COINS_HEADS, COINS_FLIPS)),
                compare_array(want, "(theta_A, theta_B)"),
            )
        )
    return run_cases("m_step", cases, "expected heads / expected tosses")


def check_forward(forward) -> CheckResult:
    """Exercise 03a: ``forward(start, trans, emit, seq)`` -> alpha (T, K), alpha[t,k] = p(x_1..x_t, y_t=k)."""
    cases = [
        Case(
            label, lambda a=(s, t, e, x): forward(*a), compare_array(brute_force_hmm(s, t, e, x)[1], "alpha")
        )
        for label, s, t, e, x in _hmm_cases()
    ]
    return run_cases("forward", cases, "brute-force enumeration of all state paths")


def check_log_likelihood(log_likelihood) -> CheckResult:
    """Exercise 03a: ``log_likelihood(start, trans, emit, seq)`` -> log p(x), finite for long sequences."""
    cases = [
        Case(
            label,
            lambda a=(s, t, e, x): log_likelihood(*a),
            compare_scalar(float(np.log(brute_force_hmm(s, t, e, x)[0])), "log p(x)"),
        )
        for label, s, t, e, x in _hmm_cases()
    ]
    start, trans, emit = random_hmm(2, 3, 3)
    long = np.random.default_rng(3).integers(0, 3, size=2000)

    def finite(got):
        try:
            v = float(got)
        except (TypeError, ValueError):
            return f"should be a number, got {type(got).__name__}"
        if not np.isfinite(v):
            return (
                f"log p(x) = {v} for a 2000-step sequence: the probabilities underflowed. "
                "Rescale alpha at every step (or work in log space)."
            )
        if not -2000 * np.log(3) * 3 < v < 0:
            return f"log p(x) = {v} is not plausible for 2000 symbols from 3"
        return None

    cases.append(
        Case(
            "a 2000-step sequence (underflow test)", lambda: log_likelihood(start, trans, emit, long), finite
        )
    )
    return run_cases("log_likelihood", cases, "brute-force enumeration (and stays finite on 2000 steps)")


def check_backward(backward) -> CheckResult:
    """Exercise 03b: ``backward(trans, emit, seq)`` -> beta (T, K), beta[t,k] = p(x_{t+1}..x_T | y_t=k)."""
    cases = [
        Case(label, lambda a=(t, e, x): backward(*a), compare_array(brute_force_hmm(s, t, e, x)[2], "beta"))
        for label, s, t, e, x in _hmm_cases()
    ]
    return run_cases("backward", cases, "brute-force enumeration of all state paths")


def check_posteriors(posteriors) -> CheckResult:
    """Exercise 03b: ``posteriors(start, trans, emit, seq)`` -> (gamma (T, K), xi (T-1, K, K))."""
    cases = []
    for label, s, t, e, x in _hmm_cases():
        _, _, _, gamma, xi = brute_force_hmm(s, t, e, x)
        cases.append(
            Case(
                label,
                lambda a=(s, t, e, x): posteriors(*a),
                compare_tuple(compare_array(gamma, "gamma"), compare_array(xi, "xi")),
            )
        )
    return run_cases("posteriors", cases, "brute-force enumeration of all state paths")


def check_expected_counts(expected_counts) -> CheckResult:
    """Exercise 03c: ``expected_counts(posteriors, seqs, V)`` -> (start, trans, emit) counts."""
    cases = []
    for seed in (0, 1):
        start, trans, emit = random_hmm(2, 3, seed)
        seqs = [np.array([0, 2, 1, 1]), np.array([2, 2, 0])]
        post = posteriors_of(start, trans, emit, seqs)
        want = hmm_expected_counts_reference(start, trans, emit, seqs)
        cases.append(
            Case(
                f"random 2-state HMM (seed {seed}), two sequences",
                lambda p=post, s=seqs: expected_counts(p, s, 3),
                compare_tuple(
                    *(
                        compare_array(w, n)
                        for w, n in zip(want, ("start_counts", "trans_counts", "emit_counts"), strict=True)
                    )
                ),
            )
        )
    return run_cases("expected_counts", cases, "counts over all state paths weighted by their posterior")


def check_m_step_hmm(m_step) -> CheckResult:
    """Exercise 03c: ``m_step(start_counts, trans_counts, emit_counts)`` -> (start, trans, emit)."""
    cs, ct, ce = (
        np.array([1.0, 3.0]),
        np.array([[1.0, 1.0], [0.5, 1.5]]),
        np.array([[2.0, 0.0, 2.0], [1.0, 1.0, 2.0]]),
    )
    want = (cs / cs.sum(), ct / ct.sum(1, keepdims=True), ce / ce.sum(1, keepdims=True))
    cases = [
        Case(
            "hand-made counts",
            lambda: m_step(cs, ct, ce),
            compare_tuple(
                *(compare_array(w, n) for w, n in zip(want, ("start", "trans", "emit"), strict=True))
            ),
        )
    ]
    return run_cases("m_step", cases, "normalizing each row of the counts")


def _pcfg_cases():
    binary, lexical, sent = MS_GRAMMAR
    yield "astronomers saw stars with ears (Manning & Schütze)", binary, lexical, sent
    yield "astronomers saw stars", binary, lexical, sent[:3]
    rng = np.random.default_rng(5)
    N, V = 3, 2
    b = rng.dirichlet(np.ones(N * N + V), size=N)
    yield (
        "random 3-nonterminal grammar, 4 words",
        b[:, : N * N].reshape(N, N, N),
        b[:, N * N :],
        np.array([0, 1, 1, 0]),
    )


def check_inside(inside) -> CheckResult:
    """Exercise 04a: ``inside(binary, lexical, sentence)`` -> chart (n+1, n+1, N) with
    ``chart[i, j, A] = p(A =>* w_i..w_{j-1})``."""
    cases = [
        Case(
            label,
            lambda a=(b, lex, s): inside(*a),
            compare_array(chart_from_enumeration(brute_force_pcfg(b, lex, s)[1]), "inside"),
        )
        for label, b, lex, s in _pcfg_cases()
    ]
    return run_cases("inside", cases, "brute-force enumeration of all trees")


def check_sentence_probability(sentence_probability) -> CheckResult:
    cases = [
        Case(
            label,
            lambda a=(b, lex, s): sentence_probability(*a),
            compare_scalar(brute_force_pcfg(b, lex, s)[0], "p(sentence)"),
        )
        for label, b, lex, s in _pcfg_cases()
    ]
    return run_cases("sentence_probability", cases, "brute-force enumeration (0.0015876 for M&S)")


def check_outside(outside, inside_fn) -> CheckResult:
    """Exercise 04b: ``outside(binary, lexical, sentence, inside_chart)`` -> chart (n+1, n+1, N)."""
    cases = [
        Case(
            label,
            lambda a=(b, lex, s): outside(*a, inside_fn(*a)),
            compare_array(outside_reference(b, lex, s), "outside"),
        )
        for label, b, lex, s in _pcfg_cases()
    ]
    return run_cases("outside", cases, "enumeration of all trees with a hole at (i, j, A)")


def check_expected_rule_counts(expected_rule_counts) -> CheckResult:
    """Exercise 04b: ``expected_rule_counts(binary, lexical, sentence)`` -> (binary, lexical) counts."""
    cases = []
    for label, b, lex, s in _pcfg_cases():
        _, _, bc, lc = brute_force_pcfg(b, lex, s)
        cases.append(
            Case(
                label,
                lambda a=(b, lex, s): expected_rule_counts(*a),
                compare_tuple(compare_array(bc, "binary_counts"), compare_array(lc, "lexical_counts")),
            )
        )
    return run_cases(
        "expected_rule_counts", cases, "rule counts over all trees weighted by p(tree | sentence)"
    )


def check_run_em(run_em) -> CheckResult:
    """Exercise 05: ``run_em(step, loglik, theta0, tol, max_iter)`` -> (theta, lls)."""

    def step(theta):  # a contraction towards 1 with rate 1/2: L_t = -(1 - theta_t)^2 - 1
        return 1 - (1 - theta) / 2

    def loglik(theta):
        return -((1 - theta) ** 2) - 1.0

    def want(theta0, tol, max_iter):
        lls, theta = [loglik(theta0)], theta0
        for _ in range(max_iter):
            theta = step(theta)
            lls.append(loglik(theta))
            if abs(lls[-1] - lls[-2]) / abs(lls[-2]) < tol:
                break
        return theta, lls

    cases = []
    for theta0, tol, max_iter in [(0.0, 1e-6, 100), (0.0, 1e-3, 100), (0.0, 1e-12, 5)]:
        theta, lls = want(theta0, tol, max_iter)
        cases.append(
            Case(
                f"theta0={theta0}, tol={tol}, max_iter={max_iter}",
                lambda a=(theta0, tol, max_iter): run_em(step, loglik, *a),
                compare_tuple(compare_scalar(theta, "theta"), compare_array(lls, "lls")),
            )
        )
    return run_cases("run_em", cases, "the relative-change stopping rule")


def check_hard_e_step(hard_e_step) -> CheckResult:
    cases = []
    for a, b in [(0.6, 0.5), (0.3, 0.9)]:
        r = coins_posterior(a, b, COINS_HEADS, COINS_FLIPS)
        want = np.eye(2)[np.argmax(r, axis=1)]
        cases.append(
            Case(
                f"theta = ({a}, {b})",
                lambda a=a, b=b: hard_e_step(a, b, COINS_HEADS, COINS_FLIPS),
                compare_array(want, "assignments (one-hot)"),
            )
        )
    return run_cases("hard_e_step", cases, "the most probable coin for every set of tosses")


def check_kmeans_step(kmeans_step) -> CheckResult:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 4.0], [5.0, 4.0], [10.0, 0.0]])
    cases = []
    for C in (np.array([[0.0, 0.0], [5.0, 5.0]]), np.array([[1.0, 1.0], [4.0, 4.0], [100.0, 100.0]])):
        d = ((X[:, None] - C[None]) ** 2).sum(-1)
        z = d.argmin(1)
        new = np.array([X[z == k].mean(0) if (z == k).any() else C[k] for k in range(len(C))])
        cases.append(
            Case(
                f"{len(C)} centres",
                lambda C=C: kmeans_step(X, C),
                compare_tuple(compare_array(z, "labels"), compare_array(new, "centres")),
            )
        )
    return run_cases("kmeans_step", cases, "nearest centre, then the mean of each cluster")
