"""The student-facing check of every exercise function: each runs the student's function on tiny
cases built to expose the common mistakes and prints a ✔ or the failing case (expected vs got)."""

from __future__ import annotations

import numpy as np

from .references import (
    COINS_FLIPS,
    COINS_HEADS,
    ICE_CREAM,
    MS_GRAMMAR,
    _hmm_cases,
    best_tree_reference,
    brute_force_hmm,
    brute_force_hmm_stop,
    brute_force_pcfg,
    brute_force_viterbi,
    chart_from_enumeration,
    coins_posterior,
    hmm_expected_counts_reference,
    hmm_stop_expected_counts_reference,
    outside_reference,
    path_log_prob,
    path_posteriors,
    posteriors_of,
    random_hmm,
    random_hmm_stop,
    sympy_value,
    tree_problem,
)
from .runner import RTOL, Case, CheckResult, compare_array, compare_scalar, compare_tuple, fmt, run_cases

_ICE = (ICE_CREAM.start, ICE_CREAM.trans, ICE_CREAM.emit)

#: Modules a graded answer cannot use (the grader's sandbox does not provide them).
_LIBRARY = ("emlab.", "hmmlearn", "sklearn")
_ALLOWED = ("emlab.data", "emlab.checks")


def library_used(fn) -> str | None:
    """The name of an emlab algorithm module (or hmmlearn) that ``fn`` refers to, if any: such an
    answer passes here, where the library is installed, and fails in the grader's sandbox."""
    import types

    seen, todo = set(), [getattr(fn, "__code__", None)]
    names = set()
    while todo:
        code = todo.pop()
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        names |= set(code.co_names)
        todo += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    env = getattr(fn, "__globals__", {})
    for name in sorted(names):
        value = env.get(name)
        module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if not isinstance(module, str):
            continue
        if (module.startswith(_LIBRARY) or module in ("emlab",)) and not module.startswith(_ALLOWED):
            if module == "emlab" and name in ("checks", "data"):
                continue
            return module
    return None


def _library_case(fn, name: str) -> Case:
    def compare(_):
        used = library_used(fn)
        if used:
            return (
                f"{name} uses `{used}`, which the grader's sandbox does not provide (the graded test "
                "would score 0): write the algorithm yourself with numpy"
            )
        return None

    return Case("written without the library", lambda: None, compare)


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


_UNEQUAL = (np.array([2, 7, 0, 11]), np.array([3, 10, 4, 20]))  # sets of different sizes


def check_coins_e_step(e_step) -> CheckResult:
    """Exercise 02: ``e_step(theta_a, theta_b, heads, flips)`` -> responsibilities (N, 2)."""
    cases = [
        Case(
            f"theta = ({a}, {b}), {label}",
            lambda a=a, b=b, h=h, n=n: e_step(a, b, h, n),
            compare_array(
                coins_posterior(a, b, h, n),
                "responsibilities",
                mistakes=[
                    (coins_posterior(a, b, h, np.full_like(n, 10)), "the number of tosses is not 10 here")
                ],
            ),
        )
        for a, b, label, h, n in [
            (0.6, 0.5, "Do & Batzoglou's tosses", COINS_HEADS, COINS_FLIPS),
            (0.3, 0.9, "Do & Batzoglou's tosses", COINS_HEADS, COINS_FLIPS),
            (0.3, 0.8, "sets of 3, 10, 4 and 20 tosses", *_UNEQUAL),
        ]
    ]
    cases.append(_library_case(e_step, "e_step"))
    return run_cases("e_step", cases, "Bayes' rule")


def check_coins_m_step(m_step) -> CheckResult:
    """Exercise 02: ``m_step(resp, heads, flips)`` -> (theta_a, theta_b)."""
    cases = []
    for a, b, label, h, n in [
        (0.6, 0.5, "Do & Batzoglou's tosses", COINS_HEADS, COINS_FLIPS),
        (0.3, 0.8, "sets of 3, 10, 4 and 20 tosses", *_UNEQUAL),
    ]:
        r = coins_posterior(a, b, h, n)
        want = (r.T @ h) / (r.T @ n)
        cases.append(
            Case(
                f"responsibilities from theta = ({a}, {b}), {label}",
                lambda r=r, h=h, n=n: m_step(r, h, n),
                compare_array(
                    want,
                    "(theta_A, theta_B)",
                    mistakes=[((r.T @ h) / (10 * r.sum(axis=0)), "every set was counted as 10 tosses")],
                ),
            )
        )
    cases.append(_library_case(m_step, "m_step"))
    return run_cases("m_step", cases, "expected heads / expected tosses")


def check_forward(forward) -> CheckResult:
    """Exercise 03a: ``forward(start, trans, emit, seq)`` -> alpha (T, K), alpha[t,k] = p(x_1..x_t, y_t=k)."""
    cases = []
    for label, s, t, e, x in _hmm_cases():
        alpha = brute_force_hmm(s, t, e, x)[1]
        shifted = alpha.copy()  # the common slip: the emission of the previous symbol
        for u in range(1, len(x)):
            shifted[u] = (shifted[u - 1] @ t) * e[:, x[u - 1]]
        mistakes = [(alpha / np.asarray(s)[None, :], "alpha lacks the start probabilities")]
        mistakes += (
            [(shifted, "each step multiplies the emission of the previous symbol x_{t-1}")]
            if len(x) > 1
            else []
        )
        cases.append(
            Case(label, lambda a=(s, t, e, x): forward(*a), compare_array(alpha, "alpha", mistakes=mistakes))
        )
    cases.append(_library_case(forward, "forward"))
    return run_cases("forward", cases, "brute-force enumeration of all state paths")


def check_log_likelihood(log_likelihood) -> CheckResult:
    """Exercise 03a: ``log_likelihood(start, trans, emit, seq)`` -> log p(x), finite for long sequences."""
    def without_first_normalizer(s, e, x, log_p):  # log p(x) - log c_1, c_1 = sum_k pi_k e(x_1 | k)
        return (log_p - float(np.log(np.asarray(s) @ np.asarray(e)[:, x[0]])),
                "the first normalizer c_1 = sum_k pi_k e(x_1 | k) is missing from the sum of logs")

    cases = [
        Case(
            label,
            lambda a=(s, t, e, x): log_likelihood(*a),
            compare_scalar(log_p, "log p(x)", mistakes=[without_first_normalizer(s, e, x, log_p)]),
        )
        for label, s, t, e, x in _hmm_cases()
        for log_p in [float(np.log(brute_force_hmm(s, t, e, x)[0]))]
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
    cases.append(_library_case(log_likelihood, "log_likelihood"))
    return run_cases("log_likelihood", cases, "brute-force enumeration (and stays finite on 2000 steps)")


def check_backward(backward) -> CheckResult:
    """Exercise 03b: ``backward(trans, emit, seq)`` -> beta (T, K), beta[t,k] = p(x_{t+1}..x_T | y_t=k)."""
    cases = [
        Case(label, lambda a=(t, e, x): backward(*a), compare_array(brute_force_hmm(s, t, e, x)[2], "beta"))
        for label, s, t, e, x in _hmm_cases()
    ]
    cases.append(_library_case(backward, "backward"))
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
    cases.append(_library_case(posteriors, "posteriors"))
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
    cases.append(_library_case(expected_counts, "expected_counts"))
    return run_cases("expected_counts", cases, "counts over all state paths weighted by their posterior")


def check_m_step_hmm(m_step) -> CheckResult:
    """Exercise 03c: ``m_step(start_counts, trans_counts, emit_counts)`` -> (start, trans, emit)."""
    cs, ct, ce = (
        np.array([1.0, 3.0]),
        np.array([[1.0, 1.0], [0.5, 4.5]]),
        np.array([[2.0, 0.0, 1.0], [1.0, 5.0, 2.0]]),
    )
    want = (cs / cs.sum(), ct / ct.sum(1, keepdims=True), ce / ce.sum(1, keepdims=True))
    wrong = (cs / cs.sum(), ct / ct.sum(0, keepdims=True), ce / ce.sum(0, keepdims=True))
    no_keepdims = (cs / cs.sum(), ct / ct.sum(1)[None, :], np.full_like(ce, np.nan))  # emit: not square
    flat = (cs / cs.sum(), ct / ct.sum(), ce / ce.sum())
    cases = [
        Case(
            "hand-made counts whose rows have different totals",
            lambda: m_step(cs, ct, ce),
            compare_tuple(
                *(
                    compare_array(
                        w,
                        n,
                        mistakes=[
                            (a, "normalized along the wrong axis (columns)"),
                            (f, "divided by the grand total"),
                            (k, "entry [i, j] was divided by row j's total: use sum(axis=1, keepdims=True)"),
                        ],
                    )
                    for w, a, f, k, n in zip(
                        want, wrong, flat, no_keepdims, ("start", "trans", "emit"), strict=True
                    )
                )
            ),
        ),
        _library_case(m_step, "m_step"),
    ]
    return run_cases("m_step", cases, "normalizing each row of the counts")


def _random_grammar(seed: int, N: int = 3, V: int = 2):
    """``(binary (N,N,N), lexical (N,V))`` of a random CNF grammar: each row a Dirichlet(1) draw."""
    b = np.random.default_rng(seed).dirichlet(np.ones(N * N + V), size=N)
    return b[:, : N * N].reshape(N, N, N), b[:, N * N :]


def _pcfg_cases():
    binary, lexical, sent = MS_GRAMMAR
    yield "astronomers saw stars with ears (Manning & Schütze)", binary, lexical, sent
    yield "astronomers saw stars", binary, lexical, sent[:3]
    yield "random 3-nonterminal grammar, 4 words", *_random_grammar(5), np.array([0, 1, 1, 0])


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
    cases.append(_library_case(inside, "inside"))
    return run_cases("inside", cases, "brute-force enumeration of all trees")


def check_sentence_probability(sentence_probability) -> CheckResult:
    cases = []
    for label, b, lex, s in _pcfg_cases():
        chart = chart_from_enumeration(brute_force_pcfg(b, lex, s)[1])
        every = chart[0, len(s)].sum()
        cases.append(
            Case(
                label,
                lambda a=(b, lex, s): sentence_probability(*a),
                compare_scalar(
                    brute_force_pcfg(b, lex, s)[0],
                    "p(sentence)",
                    mistakes=[(every, "that sums over every nonterminal: only the root S = 0 counts")]
                    if not np.isclose(every, chart[0, len(s), 0])
                    else [],
                ),
            )
        )
    cases.append(_library_case(sentence_probability, "sentence_probability"))
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
    cases.append(_library_case(outside, "outside"))
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
    cases.append(_library_case(expected_rule_counts, "expected_rule_counts"))
    return run_cases(
        "expected_rule_counts", cases, "rule counts over all trees weighted by p(tree | sentence)"
    )


def check_run_em(run_em) -> CheckResult:
    """Exercise 05: ``run_em(step, loglik, theta0, tol, max_iter)`` -> (theta, lls)."""

    def step(theta):  # a contraction towards 1 with rate 1/2: L_t = -(1 - theta_t)^2 - 100
        return 1 - (1 - theta) / 2

    def loglik(theta):  # far from 0, so that a relative and an absolute rule stop at different steps
        return -((1 - theta) ** 2) - 100.0

    def want(theta0, tol, max_iter, relative=True):
        lls, theta = [loglik(theta0)], theta0
        for _ in range(max_iter):
            theta = step(theta)
            lls.append(loglik(theta))
            change = abs(lls[-1] - lls[-2]) / (abs(lls[-2]) if relative else 1.0)
            if change < tol:
                break
        return theta, lls

    cases = []
    for theta0, tol, max_iter in [(0.0, 1e-6, 100), (0.0, 1e-3, 100), (0.0, 1e-12, 5)]:
        theta, lls = want(theta0, tol, max_iter)
        _, absolute = want(theta0, tol, max_iter, relative=False)
        cases.append(
            Case(
                f"theta0={theta0}, tol={tol}, max_iter={max_iter}, log-likelihoods near -100",
                lambda a=(theta0, tol, max_iter): run_em(step, loglik, *a),
                _lls_then_theta(_compare_lls(lls, absolute, max_iter), compare_scalar(theta, "theta")),
            )
        )
    return run_cases("run_em", cases, "the relative-change stopping rule")


def _lls_then_theta(compare_lls, compare_theta):
    """(theta, lls) compared lls first: a wrong stopping rule shows as the wrong number of steps."""
    pair = compare_tuple(lambda _: None, compare_lls)

    def compare(got):
        return pair(got) or compare_theta(got[0])

    return compare


def _compare_lls(lls, absolute, max_iter):
    def compare(got):
        try:
            n = len(got)
        except TypeError:
            return f"lls should be a list of log-likelihoods, got {type(got).__name__}"
        if n != len(lls):
            hint = ""
            if n == len(absolute):
                hint = " (that is the absolute change |L_t - L_{t-1}| < tol: divide by |L_{t-1}|)"
            elif n == len(lls) - 1:
                hint = " (is lls[0], the log-likelihood of theta0, missing?)"
            return (
                f"lls has {n} entries, expected {len(lls)}{hint}: stop as soon as "
                f"|L_t - L_(t-1)| / |L_(t-1)| < tol, or after max_iter = {max_iter} steps"
            )
        return compare_array(lls, "lls")(got)

    return compare


def _rate_lls(ratios, final=-3.0):
    """Log-likelihoods whose gaps to ``final`` shrink by ``ratios`` (then the final value itself)."""
    gaps = np.cumprod([1.0, *ratios])
    return [*(final - gaps).tolist(), final]


def check_estimate_rate(estimate_rate) -> CheckResult:
    """Exercise 05: ``estimate_rate(lls)`` -> r, the square root of the median ratio of the gaps."""
    cases = []
    for label, ratios in [
        ("log-likelihood gaps shrinking by 1/4 per step (r = 1/2)", [0.25] * 11),
        ("gaps shrinking by 0.81 per step (r = 0.9)", [0.81] * 30),
        (
            "gaps with uneven ratios 0.25, 0.9, 0.25, 0.01, 0.25, 0.25, 0.6, 0.25 (not geometric)",
            [0.25, 0.9, 0.25, 0.01, 0.25, 0.25, 0.6, 0.25],
        ),
    ]:
        med = float(np.median(ratios))
        cases.append(
            Case(
                label,
                lambda r=tuple(ratios): estimate_rate(_rate_lls(r)),
                compare_scalar(
                    np.sqrt(med),
                    "r",
                    mistakes=[
                        (med, "that is the ratio of the log-likelihood gaps, r^2: return its square root"),
                        (np.sqrt(np.mean(ratios)), "that uses the mean of the ratios: take the median"),
                        (np.mean(np.sqrt(ratios)), "that uses the mean of the ratios: take the median"),
                    ],
                ),
            )
        )
    cases.append(_library_case(estimate_rate, "estimate_rate"))
    return run_cases("estimate_rate", cases, "sqrt(median ratio of successive gaps to the final value)")


def hard_assignments_reference(a, b, heads, flips):
    la = heads * np.log(a) + (flips - heads) * np.log(1 - a)
    lb = heads * np.log(b) + (flips - heads) * np.log(1 - b)
    return np.stack([la >= lb, la < lb], axis=1).astype(float)  # coin A on a tie


def check_hard_e_step(hard_e_step) -> CheckResult:
    """Exercise 07: ``hard_e_step(theta_a, theta_b, heads, flips)`` -> one-hot (N, 2)."""
    cases = []
    for a, b, label, h, n in [
        (0.6, 0.5, "Do & Batzoglou's tosses", COINS_HEADS, COINS_FLIPS),
        (0.3, 0.8, "sets of 3, 10, 4 and 20 tosses", *_UNEQUAL),
        (  # equal coins: a tie in every formula (0.25 vs 0.75 at 5 of 10 is exact only in some)
            0.4,
            0.4,
            "a tie: with equal coins every set is as likely under A as under B",
            np.array([5, 9]),
            np.array([10, 10]),
        ),
    ]:
        want = hard_assignments_reference(a, b, np.asarray(h, float), np.asarray(n, float))
        cases.append(
            Case(
                f"theta = ({a}, {b}), {label}",
                lambda a=a, b=b, h=h, n=n: hard_e_step(a, b, h, n),
                compare_array(
                    want, "assignments (one-hot)", mistakes=[(want[:, ::-1], "the coins are swapped")]
                ),
            )
        )
    cases.append(_library_case(hard_e_step, "hard_e_step"))
    return run_cases("hard_e_step", cases, "the most probable coin for every set of tosses (A on a tie)")


def hard_em_reference(theta0, heads, flips, n_iter):
    """Hard EM for two equally likely coins: (theta, objectives) (exercise 07)."""
    heads, flips = np.asarray(heads, float), np.asarray(flips, float)
    theta = np.array(theta0, float)

    def objective(th):
        ll = np.stack([np.log(0.5) + heads * np.log(t) + (flips - heads) * np.log(1 - t) for t in th], 1)
        return float(ll.max(axis=1).sum())

    objectives = [objective(theta)]
    for _ in range(n_iter):
        z = hard_assignments_reference(theta[0], theta[1], heads, flips)
        tosses = z.T @ flips
        theta = np.where(tosses > 0, (z.T @ heads) / np.maximum(tosses, 1), theta)
        objectives.append(objective(theta))
    return theta, objectives


def check_hard_em(hard_em) -> CheckResult:
    """Exercise 07: ``hard_em(theta0, heads, flips, n_iter)`` -> (theta, objectives)."""
    cases = []
    for theta0, label, h, n, n_iter in [
        ((0.6, 0.5), "Do & Batzoglou's tosses, 5 iterations", COINS_HEADS, COINS_FLIPS, 5),
        ((0.3, 0.8), "sets of 3, 10, 4 and 20 tosses, 3 iterations", *_UNEQUAL, 3),
        (
            (0.3, 0.9),
            "no set is ever assigned to coin B (it keeps 0.9)",
            np.array([1, 2, 0]),
            np.array([10, 10, 10]),
            2,
        ),
    ]:
        theta, objectives = hard_em_reference(theta0, h, n, n_iter)
        cases.append(
            Case(
                f"theta0 = {theta0}, {label}",
                lambda a=(theta0, h, n, n_iter): hard_em(*a),
                compare_tuple(compare_array(theta, "theta"), compare_array(objectives, "objectives")),
            )
        )
    cases.append(_library_case(hard_em, "hard_em"))
    return run_cases("hard_em", cases, "hard EM (assign, then heads / tosses of each coin's sets)")


def check_kmeans_step(kmeans_step) -> CheckResult:
    """Exercise 07: ``kmeans_step(X, centres)`` -> (labels (N,), new centres (K, D))."""
    X5 = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 4.0], [5.0, 4.0], [10.0, 0.0]])
    cases = []
    for label, X, C in [
        ("2 centres", X5, np.array([[0.0, 0.0], [5.0, 5.0]])),
        (
            "3 centres, the one at (100, 100) gets no points",
            X5,
            np.array([[1.0, 1.0], [4.0, 4.0], [100.0, 100.0]]),
        ),
        (
            "a point exactly between two centres (it goes to the lower index)",
            np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]]),
            np.array([[0.0, 0.0], [4.0, 4.0]]),
        ),
    ]:
        d = ((X[:, None] - C[None]) ** 2).sum(-1)
        z = d.argmin(1)
        new = np.array([X[z == k].mean(0) if (z == k).any() else C[k] for k in range(len(C))])
        cases.append(
            Case(
                label,
                lambda X=X, C=C: kmeans_step(X, C),
                compare_tuple(compare_array(z, "labels"), compare_array(new, "centres")),
            )
        )
    cases.append(_library_case(kmeans_step, "kmeans_step"))
    return run_cases("kmeans_step", cases, "nearest centre, then the mean of each cluster")


def check_random_init(random_init) -> CheckResult:
    """Exercise 06: ``random_init(K, V, rng)`` -> an HMM with flat-Dirichlet rows, drawn in order."""
    cases = []
    for K, V, seed in [(3, 3, 0), (2, 4, 1)]:
        rng = np.random.default_rng(seed)
        start = rng.dirichlet(np.ones(K))
        trans = np.array([rng.dirichlet(np.ones(K)) for _ in range(K)])
        emit = np.array([rng.dirichlet(np.ones(V)) for _ in range(K)])

        def compare(got, want=(start, trans, emit)):
            for name, w in zip(("start", "trans", "emit"), want, strict=True):
                if not hasattr(got, name):
                    return f"should return an hmm.HMM (the result has no .{name})"
                problem = compare_array(w, name)(getattr(got, name))
                if problem:
                    return problem + "\n      (draw start, then the K rows of trans, then the K rows of emit)"
            return None

        cases.append(
            Case(
                f"K = {K}, V = {V}, seed {seed}",
                lambda a=(K, V, seed): random_init(a[0], a[1], np.random.default_rng(a[2])),
                compare,
            )
        )
    return run_cases("random_init", cases, "flat-Dirichlet draws in the order start, trans, emit")


def check_restart_finals(restart_finals, seqs, K: int = 3, V: int = 3) -> CheckResult:
    """Exercise 06: ``restart_finals(seqs, n, rng)`` -> final log-likelihoods of n EM runs (uses emlab)."""
    import warnings

    from emlab import em, hmm

    rng = np.random.default_rng(4)
    want = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            m0 = hmm.HMM(
                rng.dirichlet(np.ones(K)),
                np.array([rng.dirichlet(np.ones(K)) for _ in range(K)]),
                np.array([rng.dirichlet(np.ones(V)) for _ in range(K)]),
            )
            want.append(em.fit(m0, seqs, max_iter=300, tol=1e-9).log_likelihoods[-1])
    cases = [
        Case(
            "2 restarts from seed 4 (uses your random_init)",
            lambda: restart_finals(seqs, 2, np.random.default_rng(4)),
            compare_array(want, "final log-likelihoods"),
        )
    ]
    return run_cases("restart_finals", cases, "em.fit from random_init's models, all from one generator")


# ------------------------------------------------------------------------- 03d: HMMs with STOP


def _stop_cases():
    for seed, (K, V, T) in zip((0, 1), ((3, 4, 5), (2, 3, 4)), strict=True):
        s, t, e, f = random_hmm_stop(K, V, seed)
        yield (
            f"random {K}-state HMM with STOP, {V} symbols, T = {T}",
            s,
            t,
            e,
            f,
            np.random.default_rng(seed + 20).integers(0, V, size=T),
        )
    s, t, e, f = random_hmm_stop(2, 3, 7)
    yield "a sequence of length 1", s, t, e, f, np.array([2])


def check_forward_stop(forward_stop) -> CheckResult:
    """Exercise 03d: ``forward_stop(start, trans, emit, stop, seq)`` -> (alpha (T, K), p(x))."""
    cases = []
    for label, s, t, e, f, x in _stop_cases():
        p, alpha, _, _, _ = brute_force_hmm_stop(s, t, e, f, x)
        no_start = alpha / s[None, :] if len(x) == 1 else None
        mistakes_p = [(alpha[-1].sum(), "that is sum_k alpha_T(k): the STOP probabilities are missing")]
        mistakes_a = [(no_start, "alpha_1 lacks the start probabilities")] if no_start is not None else []
        cases.append(
            Case(
                label,
                lambda a=(s, t, e, f, x): forward_stop(*a),
                compare_tuple(
                    compare_array(alpha, "alpha", mistakes=mistakes_a),
                    compare_scalar(p, "p(x)", mistakes=mistakes_p),
                ),
            )
        )
    return run_cases("forward_stop", cases, "brute-force enumeration of all state paths (with STOP)")


def check_backward_stop(backward_stop) -> CheckResult:
    """Exercise 03d: ``backward_stop(trans, emit, stop, seq)`` -> beta (T, K) with beta_T = stop."""
    cases = []
    for label, s, t, e, f, x in _stop_cases():
        beta = brute_force_hmm_stop(s, t, e, f, x)[2]
        without = brute_force_hmm(s, t, e, x)[2]
        cases.append(
            Case(
                label,
                lambda a=(t, e, f, x): backward_stop(*a),
                compare_array(
                    beta, "beta", mistakes=[(without, "beta_T = 1: the STOP probabilities are missing")]
                ),
            )
        )
    return run_cases("backward_stop", cases, "brute-force enumeration of all state paths (with STOP)")


def check_m_step_stop(m_step_stop) -> CheckResult:
    """Exercise 03d: ``m_step_stop(start_c, trans_c, emit_c, stop_c)`` -> (start, trans, emit, stop)."""
    cases = []
    for label, counts in (
        (
            "hand-made counts, rows with different totals",
            (
                np.array([1.0, 3.0]),
                np.array([[1.0, 1.0], [0.5, 4.5]]),
                np.array([[2.0, 0.0, 1.0], [1.0, 5.0, 2.0]]),
                np.array([1.0, 2.0]),
            ),
        ),
        ("counts of a random HMM with STOP, two sequences", None),
    ):
        if counts is None:
            s, t, e, f = random_hmm_stop(3, 2, 4)
            counts = hmm_stop_expected_counts_reference(s, t, e, f, [np.array([0, 1, 1]), np.array([1, 0])])
        cs, ct, ce, cf = counts
        both = np.column_stack([ct, cf])
        both = both / both.sum(axis=1, keepdims=True)
        wrong_trans = ct / ct.sum(axis=1, keepdims=True)
        cases.append(
            Case(
                label,
                lambda c=counts: m_step_stop(*c),
                compare_tuple(
                    compare_array(cs / cs.sum(), "start"),
                    compare_array(
                        both[:, :-1],
                        "trans",
                        mistakes=[
                            (
                                wrong_trans,
                                "trans was normalized alone: [trans | stop] is one categorical per state",
                            )
                        ],
                    ),
                    compare_array(ce / ce.sum(axis=1, keepdims=True), "emit"),
                    compare_array(
                        both[:, -1],
                        "stop",
                        mistakes=[
                            (
                                cf / cf.sum(),
                                "stop was normalized over the states: normalize each row [trans | stop]",
                            )
                        ],
                    ),
                ),
            )
        )
    return run_cases("m_step_stop", cases, "normalizing each row [trans | stop] together")


# ------------------------------------------------------------------------------- 03e: Viterbi


def check_viterbi(viterbi) -> CheckResult:
    """Exercise 03e: ``viterbi(start, trans, emit, stop, seq)`` -> (path (T,), log p(x, path))."""
    cases = []
    for label, s, t, e, f, x in _stop_cases():
        best, score = brute_force_viterbi(s, t, e, x, stop=f)
        cases.append(
            Case(label, lambda a=(s, t, e, f, x): viterbi(*a), _compare_viterbi(s, t, e, f, x, score))
        )
    s, t, e, f = random_hmm_stop(3, 3, 9)
    long = np.random.default_rng(9).integers(0, 3, size=2000)
    cases.append(
        Case(
            "a 2000-step sequence (underflow test)",
            lambda: viterbi(s, t, e, f, long),
            _compare_viterbi(s, t, e, f, long, None),
        )
    )
    return run_cases("viterbi", cases, "the best of all state paths (brute force)")


def _compare_viterbi(s, t, e, f, x, score):
    def compare(got):
        if got is None:
            return "your function returned nothing (None); it should return (path, log_prob)"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return f"should return (path, log_prob), got {type(got).__name__}"
        path, value = got
        try:
            path = np.asarray(path)
            value = float(np.asarray(value, dtype=float).reshape(()))
        except (TypeError, ValueError):
            return "path should be an array of state numbers and log_prob one number"
        if path.shape != (len(x),) or not np.issubdtype(path.dtype, np.number):
            return f"path should have shape ({len(x)},), got shape {path.shape}"
        if np.any(path != np.round(path)) or path.min() < 0 or path.max() >= len(s):
            return f"path should hold state numbers 0..{len(s) - 1}, got {fmt(path)}"
        own = path_log_prob(s, t, e, x, path.astype(int), stop=f)
        if not np.isfinite(value):
            return (
                f"log_prob = {fmt(value)}: the product of probabilities underflowed. Work with sums of logs"
                if len(x) > 50
                else f"log_prob = {fmt(value)} is not finite"
            )
        if value > 0:
            return f"log_prob = {fmt(value)} is positive: it should be log p(x, path) (did you return p?)"
        if not np.isclose(own, value, rtol=RTOL, atol=1e-9):
            hint = ""
            without = path_log_prob(s, t, e, x, path.astype(int))
            if np.isclose(without, value, rtol=RTOL, atol=1e-9):
                hint = " (that is log p(x, path) without the STOP factor)"
            return f"log_prob = {fmt(value)} but your path has log p(x, path) = {fmt(own)}{hint}"
        if score is not None and not np.isclose(value, score, rtol=RTOL, atol=1e-9):
            return (
                f"your path {fmt(path)} has log p(x, path) = {fmt(value)}, but the best path has "
                f"{fmt(score)}: follow the back-pointers from the best final state (times STOP)"
            )
        return None

    return compare


# ------------------------------------------------------------------------------------ 04c: CKY


def _cky_cases():
    binary, lexical, sent = MS_GRAMMAR
    yield "astronomers saw stars with ears (Manning & Schütze)", binary, lexical, sent
    grammar = _random_grammar(6)
    yield "random 3-nonterminal grammar, 4 words", *grammar, np.array([1, 0, 0, 1])
    yield "a one-word sentence", *grammar, np.array([1])


def check_cky(cky) -> CheckResult:
    """Exercise 04c: ``cky(binary, lexical, sentence)`` -> (p of the best tree, tree)."""
    cases = []
    for label, b, lex, s in _cky_cases():
        p, _ = best_tree_reference(b, lex, s)
        total = brute_force_pcfg(b, lex, s)[0]
        cases.append(Case(label, lambda a=(b, lex, s): cky(*a), _compare_cky(b, lex, s, p, total)))
    return run_cases("cky", cases, "the best of all trees (brute force)")


def _compare_cky(b, lex, s, p, total):
    def compare(got):
        if got is None:
            return "your function returned nothing (None); it should return (probability, tree)"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return f"should return (probability, tree), got {type(got).__name__}"
        value, tree = got
        problem = compare_scalar(
            p,
            "the best tree's probability",
            mistakes=[(total, "that is the inside probability (a sum over trees): CKY takes the max")]
            if not np.isclose(total, p)
            else [],
        )(value)
        if problem:
            return problem
        own, why = tree_problem(tree, b, lex, s)
        if why:
            return f"the tree: {why}"
        if not np.isclose(own, p, rtol=RTOL):
            return f"your tree has probability {fmt(own)}, not the best {fmt(p)}: follow the back-pointers"
        return None

    return compare


# ---------------------------------------------------------------------------------- 04d: M-step


def check_pcfg_m_step(pcfg_m_step) -> CheckResult:
    """Exercise 04d: ``pcfg_m_step(binary_counts, lexical_counts)`` -> (binary, lexical) per LHS."""
    cases = []
    rng = np.random.default_rng(8)
    for label, (bc, lc) in (
        ("counts of the M&S sentence", brute_force_pcfg(*MS_GRAMMAR)[2:]),
        (
            "random counts, 2 nonterminals, 3 words",
            (rng.gamma(1.0, size=(2, 2, 2)), rng.gamma(1.0, size=(2, 3)) * np.array([[1.0], [5.0]])),
        ),
        (
            "random counts, 3 nonterminals, 2 words; nonterminal 1 never used (its rows must be 0)",
            (rng.gamma(1.0, size=(3, 3, 3)) * np.array([1.0, 0.0, 1.0])[:, None, None],
             rng.gamma(1.0, size=(3, 2)) * np.array([[1.0], [0.0], [2.0]])),
        ),
    ):
        total = bc.sum(axis=(1, 2)) + lc.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            want_b = np.where(total[:, None, None] > 0, bc / np.where(total > 0, total, 1)[:, None, None], 0)
            want_l = np.where(total[:, None] > 0, lc / np.where(total > 0, total, 1)[:, None], 0)
            sep_b = bc / np.maximum(bc.sum(axis=(1, 2), keepdims=True), 1e-300)
            sep_l = lc / np.maximum(lc.sum(axis=1, keepdims=True), 1e-300)
        cases.append(
            Case(
                label,
                lambda c=(bc, lc): pcfg_m_step(*c),
                compare_tuple(
                    compare_array(
                        want_b,
                        "binary",
                        mistakes=[
                            (sep_b, "binary rules were normalized alone: all rules A -> ... share one total")
                        ],
                    ),
                    compare_array(
                        want_l,
                        "lexical",
                        mistakes=[
                            (sep_l, "lexical rules were normalized alone: all rules A -> ... share one total")
                        ],
                    ),
                ),
            )
        )
    return run_cases("pcfg_m_step", cases, "normalizing all rules of each left-hand side together")


# ------------------------------------------------------------------------------------ 07b: FFBS


def check_sample_paths(sample_paths, n: int = 4000) -> CheckResult:
    """Exercise 07b: ``sample_paths(start, trans, emit, seq, n, rng)`` -> (n, T) paths ~ p(y | x)."""
    cases = []
    for label, s, t, e, x in (
        ("ice cream '3 1 3' (Jurafsky & Martin)", *_ICE, ICE_CREAM.seq),
        ("random 3-state HMM, 4 steps", *random_hmm(3, 2, 3), np.array([0, 1, 1, 0])),
        ("a sequence of length 1", *random_hmm(2, 3, 4), np.array([1])),
    ):
        post = path_posteriors(s, t, e, x)
        cases.append(
            Case(
                label,
                lambda a=(s, t, e, x): sample_paths(*a, n, np.random.default_rng(0)),
                _compare_samples(
                    post,
                    len(x),
                    len(s),
                    n,
                    lambda a=(s, t, e, x): sample_paths(*a, 3, np.random.default_rng(1)),
                    # (not on the one-step case: two honest runs may well agree there)
                    (lambda seed, a=(s, t, e, x): sample_paths(*a, _SEEDED_N, np.random.default_rng(seed)))
                    if len(x) > 1 else None,
                ),
            )
        )
    return run_cases(
        "sample_paths", cases, f"the posterior p(y | x) of every path (within 4.5 sd of {n} draws)"
    )


def _state_paths(paths, n: int, T: int, K: int):
    """``paths`` as an int array (n, T) of state numbers 0..K-1, or the sentence saying what it is not."""
    try:
        arr = np.asarray(paths)
    except (TypeError, ValueError):
        return "should return an array of state numbers of shape (n, T)"
    if arr.shape != (n, T):
        return f"should return shape ({n}, {T}) (n samples of T states), got {arr.shape}"
    if (
        not np.issubdtype(arr.dtype, np.number)
        or np.any(arr != np.round(arr))
        or arr.min() < 0
        or arr.max() >= K
    ):
        return f"should hold state numbers 0..{K - 1}"
    return arr.astype(int)


def _frequency_off(what: str, drawn: float, posterior: str, p: float, z: float, reveal: bool) -> str:
    """The sentence for an event drawn with frequency ``drawn`` whose posterior ``posterior`` is
    ``p``; without ``reveal`` (in the grader) it gives neither number, only the direction."""
    if reveal:
        return f"{what} was drawn in {fmt(drawn)} of the samples but {posterior} is {fmt(p)}"
    return (f"{what} was drawn {'more' if drawn > p else 'less'} often than its posterior {posterior} "
            f"allows (by more than {z:g} standard deviations)")


_JOINT_HINT = (": the states one at a time pass this test, their joint draw does not "
               "(draw y_t given the y_{t+1} you drew, backwards from y_T)")


def path_frequencies_problem(paths, post, T, K, n, z: float = 4.5, reveal: bool = True):
    """None if the empirical frequency of every state path in ``paths`` (n, T) is within ``z``
    binomial standard deviations (+ 1/n) of its posterior ``post`` (a dict path -> p), else a sentence
    (without the frequencies and posteriors unless ``reveal``: the grader does not show them)."""
    arr = _state_paths(paths, n, T, K)
    if isinstance(arr, str):
        return arr
    counts: dict = {}
    for row in arr:
        counts[tuple(row)] = counts.get(tuple(row), 0) + 1
    impossible = [p for p in counts if post.get(p, 0.0) == 0.0]
    if impossible:
        return f"the path {list(impossible[0])} has posterior probability 0 but was drawn"
    gamma = np.zeros((T, K))
    for path, q in post.items():
        for u, y in enumerate(path):
            gamma[u, y] += q
    freq = np.stack([(arr == k).mean(axis=0) for k in range(K)], axis=1)
    sd = np.sqrt(gamma * (1 - gamma) / n)
    off = np.abs(freq - gamma) > z * sd + 1.0 / n
    if off.any():
        u, k = (int(i) for i in np.argwhere(off)[0])
        return _frequency_off(f"state {k} at position {u}", freq[u, k], f"p(y_{u} = {k} | x)", gamma[u, k],
                              z, reveal)
    for path, q in sorted(post.items(), key=lambda pq: -pq[1]):
        f = counts.get(path, 0) / n
        if abs(f - q) > z * np.sqrt(q * (1 - q) / n) + 1.0 / n:
            return _frequency_off(f"the path {list(path)}", f, "p(y | x)", q, z, reveal) + _JOINT_HINT
    return None


#: Paths drawn with each of two different seeds to see that a sampler uses its ``rng``: two honest
#: runs give the same 100 paths with probability ``(Σ_y p(y | x)²)^100``: below 1e-40 on the cases it is
#: used on (not on a one-step sequence, whose two paths may well be drawn alike).
_SEEDED_N = 100

_DIFFERENT_SEEDS_PROBLEM = (
    f"two calls with different seeds gave the same {_SEEDED_N} paths: the sampler ignores its `rng` "
    "(it is deterministic); draw every random number from `rng` (two honest runs agree with probability "
    "below 1e-40 here)"
)


def _compare_samples(post, T, K, n, again, with_seed=None):
    def compare(got):
        if got is None:
            return "your function returned nothing (None); it should return an (n, T) array of paths"
        problem = path_frequencies_problem(got, post, T, K, n)
        if problem:
            return problem
        try:
            a, b = np.asarray(again()), np.asarray(again())
        except Exception as exc:  # noqa: BLE001
            return f"a second call raised {type(exc).__name__}"
        if a.shape != b.shape or np.any(a != b):
            return "two calls with the same seed gave different paths: draw every random number from `rng`"
        if with_seed is not None:
            try:
                a, b = np.asarray(with_seed(11)), np.asarray(with_seed(12))
            except Exception as exc:  # noqa: BLE001
                return f"a call with another seed raised {type(exc).__name__}"
            if a.shape == b.shape and np.all(a == b):
                return _DIFFERENT_SEEDS_PROBLEM
        return None

    return compare


def marginal_frequencies_problem(paths, gamma, xi, n, z: float = 5.0, reveal: bool = True):
    """None if in ``paths`` (n, T) the frequency of every state at every position and of every pair
    of states at every two neighbouring positions is within ``z`` binomial standard deviations
    (+ 1/n) of its posterior, ``gamma`` (T, K) and ``xi`` (T-1, K, K), else a sentence. For
    sequences too long to list every path (:func:`path_frequencies_problem` compares whole paths;
    ``reveal`` as there)."""
    gamma, xi = np.asarray(gamma, dtype=float), np.asarray(xi, dtype=float)
    T, K = gamma.shape
    arr = _state_paths(paths, n, T, K)
    if isinstance(arr, str):
        return arr
    freq = np.stack([(arr == k).mean(axis=0) for k in range(K)], axis=1)
    pair = np.zeros((T - 1, K, K))
    np.add.at(pair, (np.arange(T - 1)[None, :], arr[:, :-1], arr[:, 1:]), 1.0 / n)
    for got, want in ((freq, gamma), (pair, xi)):
        drawn = (want == 0) & (got > 0)
        if drawn.any():
            where = [int(i) for i in np.argwhere(drawn)[0]]
            what = f"state {where[1]} at position {where[0]}" if got.ndim == 2 else (
                f"the states ({where[1]}, {where[2]}) at positions {where[0]}, {where[0] + 1}")
            return f"{what} has posterior probability 0 but was drawn"
    off = np.abs(freq - gamma) > z * np.sqrt(gamma * (1 - gamma) / n) + 1.0 / n
    if off.any():
        u, k = (int(i) for i in np.argwhere(off)[0])
        return _frequency_off(f"state {k} at position {u}", freq[u, k], f"p(y_{u} = {k} | x)", gamma[u, k],
                              z, reveal)
    off = np.abs(pair - xi) > z * np.sqrt(xi * (1 - xi) / n) + 1.0 / n
    if off.any():
        u, i, j = (int(v) for v in np.argwhere(off)[0])
        return _frequency_off(f"the states ({i}, {j}) at positions {u}, {u + 1}", pair[u, i, j],
                              f"p(y_{u} = {i}, y_{u + 1} = {j} | x)", xi[u, i, j], z, reveal) + _JOINT_HINT
    return None


# ------------------------------------------------------------------------ 07c: Viterbi training


def path_counts_reference(paths, seqs, K: int, V: int):
    """(start, trans, emit) counts of given state paths (exercise 07c), by a loop over positions."""
    cs, ct, ce = np.zeros(K), np.zeros((K, K)), np.zeros((K, V))
    for path, seq in zip(paths, seqs, strict=True):
        cs[path[0]] += 1
        for t, (y, x) in enumerate(zip(path, seq, strict=True)):
            ce[y, x] += 1
            if t > 0:
                ct[path[t - 1], y] += 1
    return cs, ct, ce


def viterbi_training_reference(start, trans, emit, seqs, n_iter: int):
    """Hard (Viterbi) EM for an HMM without STOP: decode every sequence by enumeration, count,
    normalize; a row with no counts keeps its values (exercise 07c)."""
    params = [np.array(a, dtype=float) for a in (start, trans, emit)]
    K, V = params[2].shape
    for _ in range(n_iter):
        paths = [brute_force_viterbi(*params, x)[0] for x in seqs]
        for i, c in enumerate(path_counts_reference(paths, seqs, K, V)):
            total = c.sum(axis=-1, keepdims=True)
            params[i] = np.where(total > 0, c / np.where(total > 0, total, 1), params[i])
    return tuple(params)


_TRAINING_SEQS = [np.array([0, 0, 1, 2]), np.array([2, 2, 1]), np.array([1])]


def check_path_counts(path_counts) -> CheckResult:
    """Exercise 07c: ``path_counts(paths, seqs, K, V)`` -> (start, trans, emit) counts."""
    cases = []
    for label, paths, seqs, K, V in [
        (
            "3 sequences (one of length 1), K = 2 states, V = 3 symbols",
            [np.array([0, 0, 1, 1]), np.array([1, 0, 0]), np.array([1])],
            _TRAINING_SEQS,
            2,
            3,
        ),
        ("K = 3 states, V = 2 symbols", [np.array([2, 0, 1, 2, 2])], [np.array([1, 1, 0, 1, 0])], 3, 2),
    ]:
        cs, ct, ce = path_counts_reference(paths, seqs, K, V)
        cases.append(
            Case(
                label,
                lambda a=(paths, seqs, K, V): path_counts(*a),
                compare_tuple(
                    compare_array(cs, "start_counts"),
                    compare_array(
                        ct, "trans_counts", mistakes=[(ct.T, "transposed: trans_counts[i, j] counts i -> j")]
                    ),
                    compare_array(ce, "emit_counts"),
                ),
            )
        )
    cases.append(_library_case(path_counts, "path_counts"))
    return run_cases("path_counts", cases, "counting the paths position by position")


def check_viterbi_training(viterbi_training) -> CheckResult:
    """Exercise 07c: ``viterbi_training(start, trans, emit, seqs, n_iter)`` -> (start, trans, emit)."""
    cases = []
    for label, (s, t, e), seqs, n_iter in [
        ("a random 2-state HMM, 3 sequences, 1 iteration", random_hmm(2, 3, 12), _TRAINING_SEQS, 1),
        ("the same, 3 iterations", random_hmm(2, 3, 12), _TRAINING_SEQS, 3),
        (
            "state 1 is never decoded: its rows keep their values",
            (np.array([0.9, 0.1]), np.array([[0.9, 0.1], [0.5, 0.5]]), np.array([[0.5, 0.5], [0.1, 0.9]])),
            [np.array([0, 0, 0]), np.array([0, 1])],
            1,
        ),
    ]:
        want = viterbi_training_reference(s, t, e, seqs, n_iter)
        cases.append(
            Case(
                label,
                lambda a=(s, t, e, seqs, n_iter): viterbi_training(*a),
                compare_tuple(
                    *(compare_array(w, n) for w, n in zip(want, ("start", "trans", "emit"), strict=True))
                ),
            )
        )
    cases.append(_library_case(viterbi_training, "viterbi_training"))
    return run_cases("viterbi_training", cases, "decode with viterbi, count the paths, normalize")


# ---------------------------------------------------------------------- 08a: the gradient identity


def coins_logit_loglik(eta, heads, flips):
    """log p(x | eta) of two equally likely coins with theta_c = 1 / (1 + exp(-eta_c)) (exercise 08a).
    Written for complex ``eta`` too, so that complex-step differentiation gives its exact gradient."""
    heads, flips = np.asarray(heads, float), np.asarray(flips, float)
    eta = np.asarray(eta)
    theta = 1 / (1 + np.exp(-eta))
    like = [0.5 * theta[c] ** heads * (1 - theta[c]) ** (flips - heads) for c in range(2)]
    return np.sum(np.log(like[0] + like[1]))


def coins_logit_gradient_reference(eta, heads, flips, h: float = 1e-30):
    """d log p(x) / d eta by complex-step differentiation of :func:`coins_logit_loglik`
    (Squire & Trapp 1998: exact to rounding, no cancellation), independent of Fisher's identity."""
    eta = np.asarray(eta, float)
    out = np.zeros(2)
    for c in range(2):
        step = eta.astype(complex)
        step[c] += 1j * h
        out[c] = coins_logit_loglik(step, heads, flips).imag / h
    return out


def check_logit_gradient(logit_gradient) -> CheckResult:
    """Exercise 08a: ``logit_gradient(eta, heads, flips)`` -> d log p(x) / d eta, shape (2,)."""
    cases = []
    for eta, label, h, n in [
        ((0.4, -0.2), "Do & Batzoglou's tosses", COINS_HEADS, COINS_FLIPS),
        ((-1.0, 1.5), "sets of 3, 10, 4 and 20 tosses", *_UNEQUAL),
    ]:
        want = coins_logit_gradient_reference(eta, h, n)
        theta = 1 / (1 + np.exp(-np.asarray(eta)))
        r = coins_posterior(theta[0], theta[1], h, n)
        cases.append(
            Case(
                f"eta = {eta}, {label}",
                lambda a=(eta, h, n): logit_gradient(np.array(a[0]), a[1], a[2]),
                compare_array(
                    want,
                    "gradient",
                    mistakes=[
                        (r.T @ h, "that is E[heads] alone: subtract the model counts E[tosses] * theta"),
                        (
                            r.T @ h - theta * np.sum(n),
                            "the model counts use all tosses, not each coin's expected tosses",
                        ),
                    ],
                ),
            )
        )
    cases.append(_library_case(logit_gradient, "logit_gradient"))
    return run_cases("logit_gradient", cases, "complex-step differentiation of log p(x)")


# ---------------------------------------------------------------------------- 02b: generalized EM


def coins_q_reference(theta, resp, heads, flips) -> float:
    """Q(theta | theta_t) = sum_i sum_c r_ic [log 1/2 + h_i log theta_c + (n_i - h_i) log(1 - theta_c)]."""
    heads, flips, resp = np.asarray(heads, float), np.asarray(flips, float), np.asarray(resp, float)
    terms = [np.log(0.5) + heads * np.log(t) + (flips - heads) * np.log(1 - t) for t in theta]
    return float(np.sum(resp * np.stack(terms, axis=1)))


def check_q_function(q_function) -> CheckResult:
    """Exercise 02b: ``q_function(theta, resp, heads, flips)`` -> Q(theta | theta_t)."""
    cases = []
    for theta, at, label, h, n in [
        ((0.7, 0.4), (0.6, 0.5), "Do & Batzoglou's tosses", COINS_HEADS, COINS_FLIPS),
        ((0.2, 0.9), (0.3, 0.8), "sets of 3, 10, 4 and 20 tosses", *_UNEQUAL),
    ]:
        r = coins_posterior(*at, h, n)
        hard = np.eye(2)[np.argmax(r, axis=1)]
        cases.append(
            Case(
                f"Q({theta} | {at}), {label}",
                lambda a=(theta, r, h, n): q_function(np.array(a[0]), *a[1:]),
                compare_scalar(
                    coins_q_reference(theta, r, h, n),
                    "Q",
                    mistakes=[
                        (
                            coins_q_reference(theta, hard, h, n),
                            "each set was given to one coin: weight by resp",
                        ),
                        (
                            coins_q_reference(theta, r, h, n) - np.log(0.5) * len(h),
                            "the log 1/2 of choosing a coin is missing",
                        ),
                    ],
                ),
            )
        )
    cases.append(_library_case(q_function, "q_function"))
    return run_cases("q_function", cases, "the expected complete-data log-likelihood")


def gem_step_reference(theta, heads, flips, alpha):
    """(1 - alpha) theta + alpha theta*, theta* the exact M-step from the responsibilities at theta."""
    theta = np.asarray(theta, float)
    r = coins_posterior(theta[0], theta[1], heads, flips)
    full = (r.T @ np.asarray(heads, float)) / (r.T @ np.asarray(flips, float))
    return (1 - alpha) * theta + alpha * full, full


def check_gem_step(gem_step) -> CheckResult:
    """Exercise 02b: ``gem_step(theta, heads, flips, alpha)`` -> the partial M-step's theta."""
    cases = []
    for theta, alpha, label, h, n in [
        ((0.6, 0.5), 0.3, "Do & Batzoglou's tosses", COINS_HEADS, COINS_FLIPS),
        ((0.3, 0.8), 1.0, "sets of 3, 10, 4 and 20 tosses (alpha = 1 is EM)", *_UNEQUAL),
        ((0.3, 0.8), 0.5, "sets of 3, 10, 4 and 20 tosses", *_UNEQUAL),
    ]:
        want, full = gem_step_reference(theta, h, n, alpha)
        backwards = alpha * np.asarray(theta) + (1 - alpha) * full
        cases.append(
            Case(
                f"theta = {theta}, alpha = {alpha}, {label}",
                lambda a=(theta, h, n, alpha): gem_step(np.array(a[0]), *a[1:]),
                compare_array(
                    want,
                    "new theta",
                    mistakes=[
                        (
                            backwards,
                            "alpha and 1 - alpha are swapped: alpha is the fraction moved towards theta*",
                        )
                    ]
                    if alpha != 0.5
                    else [],
                ),
            )
        )
    cases.append(_library_case(gem_step, "gem_step"))
    return run_cases("gem_step", cases, "a fraction alpha of the way to the exact M-step")
