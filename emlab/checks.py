"""Student-facing checks for the exercises, and the guard the hidden tests use.

A check call runs the student's function on tiny examples and *prints* what happened:

    >>> check_forward(forward)          # doctest: +SKIP
    ✔ forward: all 3 cases agree with brute-force enumeration

or which case failed and why (expected vs got), or that the function is not written yet
(it still raises ``NotImplementedError``). A check never raises and never stops the notebook:
whatever the student's code does (wrong shapes, exceptions, ``sys.exit``) is reported as text.
It returns a :class:`CheckResult` (truthy when every case passed) that displays nothing by itself.

The references are independent of the rest of emlab: brute-force enumeration of all state paths
(HMMs) and all trees (PCFGs), or closed forms, written here in plain numpy.

:func:`library_blocked` is what the instructor's hidden tests wrap around a student's function: for
its duration every function of ``emlab`` (except this module) raises, so an exercise answered by
calling the library instead of writing the algorithm earns nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CheckResult", "Case", "run_cases", "library_blocked", "LibraryBlocked",
    "brute_force_hmm", "brute_force_pcfg", "MS_GRAMMAR", "ICE_CREAM",
]


# --------------------------------------------------------------------------------------------------
# results and the case runner


@dataclass
class CheckResult:
    """Outcome of one check call: ``passed``, the printed ``message`` and per-case ``failures``."""

    name: str
    passed: bool
    message: str
    failures: list[str] = field(default_factory=list)
    not_written: bool = False

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:  # the message was printed already; show nothing more
        return None

    def __repr__(self) -> str:
        return f"CheckResult(name={self.name!r}, passed={self.passed})"


@dataclass
class Case:
    """One tiny example: ``call()`` runs the student's function, ``compare(got)`` returns ``None``
    when ``got`` is right or a sentence saying what is wrong (expected vs got)."""

    label: str
    call: Callable[[], object]
    compare: Callable[[object], str | None]


def _short(x, width: int = 300) -> str:
    with np.printoptions(precision=6, suppress=False, threshold=40, linewidth=100):
        text = repr(np.asarray(x)) if isinstance(x, (np.ndarray, list, tuple)) and _numeric(x) else repr(x)
    return text if len(text) <= width else text[:width] + " ..."


def _numeric(x) -> bool:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.ndim > 0


def run_cases(name: str, cases: Iterable[Case], what: str = "the reference") -> CheckResult:
    """Run every case, print one clear message, return a :class:`CheckResult`. Never raises
    (except ``KeyboardInterrupt``, so the student can still stop a runaway cell)."""
    failures = []
    n = 0
    for case in cases:
        n += 1
        try:
            got = case.call()
        except NotImplementedError:
            msg = (f"✘ {name} is not written yet: it still raises NotImplementedError. "
                   f"Replace `raise NotImplementedError()` with your code.")
            print(msg)
            return CheckResult(name, False, msg, [msg], not_written=True)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 (SystemExit too: a check never stops the notebook)
            failures.append(f"case '{case.label}': your function raised {type(exc).__name__}: {exc}")
            continue
        try:
            problem = case.compare(got)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            problem = f"could not compare the result ({type(exc).__name__}: {exc}); got {_short(got)}"
        if problem:
            failures.append(f"case '{case.label}': {problem}")
    if failures:
        msg = f"✘ {name}: {len(failures)} of {n} cases fail\n  - " + "\n  - ".join(failures)
    else:
        msg = f"✔ {name}: all {n} cases agree with {what}"
    print(msg)
    return CheckResult(name, not failures, msg, failures)


def compare_array(expected, name: str = "result", rtol: float = 1e-6, atol: float = 1e-10):
    """A ``compare`` function: shape first, then values within tolerance, reporting the worst entry."""
    expected = np.asarray(expected, dtype=float)

    def compare(got):
        try:
            arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return f"{name} should be an array of numbers, got {type(got).__name__}: {_short(got)}"
        if arr.shape != expected.shape:
            return f"{name} should have shape {expected.shape}, got shape {arr.shape}"
        if not np.allclose(arr, expected, rtol=rtol, atol=atol, equal_nan=False):
            err = np.abs(arr - expected)
            where = tuple(int(i) for i in np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)),
                                                           err.shape)) if err.size else ()
            return (f"{name}{list(where) if where else ''}: expected {expected[where]!r}, got {arr[where]!r}"
                    f"\n      expected {name} = {_short(expected)}\n      got      {name} = {_short(arr)}")
        return None

    return compare


def compare_scalar(expected: float, name: str = "value", rtol: float = 1e-6, atol: float = 1e-12):
    def compare(got):
        try:
            value = float(got)
        except (TypeError, ValueError):
            return f"{name} should be a number, got {type(got).__name__}: {_short(got)}"
        if not np.isclose(value, expected, rtol=rtol, atol=atol):
            return f"{name}: expected {expected!r}, got {value!r}"
        return None

    return compare


def compare_tuple(*parts: Callable[[object], str | None]):
    """Compare a tuple result part by part (e.g. ``(gamma, xi)``)."""

    def compare(got):
        if not isinstance(got, (tuple, list)) or len(got) != len(parts):
            return f"should return a tuple of {len(parts)} items, got {type(got).__name__}: {_short(got)}"
        for part, value in zip(parts, got, strict=True):
            problem = part(value)
            if problem:
                return problem
        return None

    return compare


# --------------------------------------------------------------------------------------------------
# the guard used by hidden tests


class LibraryBlocked(RuntimeError):
    """Raised by any emlab function called while :func:`library_blocked` is active."""


def _blocked(*args, **kwargs):
    raise RuntimeError("this emlab function is switched off while your own implementation is graded: "
                       "write the algorithm with numpy instead of calling the library")


#: emlab modules left on while a student's function is graded: this guard, the input checks, the
#: shipped data and the drawing/widget helpers (none of them computes an answer).
UNBLOCKED = ("emlab.checks", "emlab.validation", "emlab.data", "emlab.plots", "emlab.widgets")


#: The guard's own machinery, left running inside the block.
_GUARD = {"library_blocked", "_blockable", "_blocked", "find_spec"}


class _RefuseImports:
    """Import hook active inside :func:`library_blocked`: an emlab module that was not imported before
    the block (so its functions could not be switched off) cannot be imported inside it."""

    def find_spec(self, name, path=None, target=None):
        if name.startswith("emlab.") and not any(name == u or name.startswith(u + ".") or
                                                 name.startswith(u + "_") for u in UNBLOCKED):
            raise ImportError(f"{name} is switched off while your own implementation is graded: "
                              "write the algorithm with numpy instead of calling the library")
        return None


def _blockable(func: types.FunctionType, root: str, unblocked: tuple[str, ...]) -> bool:
    filename = func.__code__.co_filename
    if not filename.startswith(root) or filename.startswith(unblocked):
        return False
    return not (filename == __file__ and func.__code__.co_name in _GUARD)


@contextlib.contextmanager
def library_blocked():
    """Switch off every function of emlab for the duration of the block, except the modules in
    :data:`UNBLOCKED` (this guard, input validation, data, drawing); the reference implementations
    of this module (brute force, Bayes' rule for the coins, ...) are switched off too.

    Every live function object whose code comes from an emlab source file gets the blocker's code
    (``gc`` finds them all), so references the student took earlier (``from emlab.hmm import forward``,
    functions of a module reloaded since, decorated functions) are switched off as well; an emlab
    module not imported yet cannot be imported inside the block. Everything is restored on exit, even
    when the student's code raises. (Closures cannot take another code object; they only run inside
    emlab functions, which are blocked.)
    """
    import gc
    import os

    import emlab

    root = os.path.dirname(os.path.abspath(emlab.__file__)) + os.sep
    unblocked = tuple(os.path.join(root, *u.split(".")[1:]) for u in UNBLOCKED if u != __name__)
    refuse = _RefuseImports()
    swapped: list = []
    try:
        for obj in gc.get_objects():
            if (isinstance(obj, types.FunctionType) and not obj.__closure__
                    and _blockable(obj, root, unblocked)):
                old = obj.__code__
                obj.__code__ = _blocked.__code__.replace(co_name=old.co_name, co_qualname=old.co_qualname,
                                                         co_filename=old.co_filename)
                swapped.append((obj, old))
        sys.meta_path.insert(0, refuse)
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(refuse)
        for func, old in reversed(swapped):
            func.__code__ = old


# --------------------------------------------------------------------------------------------------
# independent references: brute-force enumeration


@dataclass(frozen=True)
class _IceCream:
    """Jurafsky & Martin (SLP3 appendix A): states H=0, C=1; observations 1, 2, 3 coded 0, 1, 2."""

    start: np.ndarray = field(default_factory=lambda: np.array([0.8, 0.2]))
    trans: np.ndarray = field(default_factory=lambda: np.array([[0.6, 0.4], [0.5, 0.5]]))
    emit: np.ndarray = field(default_factory=lambda: np.array([[0.2, 0.4, 0.4], [0.5, 0.4, 0.1]]))
    seq: np.ndarray = field(default_factory=lambda: np.array([2, 0, 2]))   # "3 1 3"
    prob: float = 0.028562                                                # P(3 1 3), published


ICE_CREAM = _IceCream()


def brute_force_hmm(start, trans, emit, seq):
    """Enumerate all K**T state paths of a (no-STOP) HMM.

    Returns ``(p, alpha, beta, gamma, xi)``: p(x); forward ``alpha[t,k] = p(x_1..x_t, y_t=k)``;
    backward ``beta[t,k] = p(x_{t+1}..x_T | y_t=k)``; ``gamma[t,k] = p(y_t=k | x)``;
    ``xi[t,i,j] = p(y_t=i, y_{t+1}=j | x)``. Only for tiny T (K**T paths).
    """
    start, trans, emit = (np.asarray(a, dtype=float) for a in (start, trans, emit))
    seq = np.asarray(seq, dtype=int)
    K, T = len(start), len(seq)
    alpha = np.zeros((T, K))
    beta = np.zeros((T, K))
    gamma = np.zeros((T, K))
    xi = np.zeros((max(T - 1, 0), K, K))
    total = 0.0
    for path in itertools.product(range(K), repeat=T):
        probs = [start[path[0]] * emit[path[0], seq[0]]]
        for t in range(1, T):
            probs.append(trans[path[t - 1], path[t]] * emit[path[t], seq[t]])
        joint = float(np.prod(probs))
        total += joint
        for t in range(T):
            gamma[t, path[t]] += joint
            head = float(np.prod(probs[: t + 1]))
            tail = float(np.prod(probs[t + 1:])) if t + 1 < T else 1.0
            # alpha: sum over the prefix paths; divide out duplicates by counting each prefix once
            alpha[t, path[t]] += head * _suffix_share(path, t, K, T)
            beta[t, path[t]] += tail * _prefix_share(path, t, K)
        for t in range(T - 1):
            xi[t, path[t], path[t + 1]] += joint
    return total, alpha, beta, gamma / total, xi / total


def _suffix_share(path, t, K, T):
    # every prefix path appears K**(T-1-t) times in the enumeration: count it once
    return 1.0 / K ** (T - 1 - t)


def _prefix_share(path, t, K):
    # beta[t, k] sums tails over suffixes; each suffix appears K**t times (once per prefix)
    return 1.0 / K ** t


#: Manning & Schütze ch. 11 grammar, nonterminals indexed; S is 0.
MS_NONTERMINALS = ["S", "NP", "VP", "PP", "P", "V"]
MS_WORDS = ["astronomers", "ears", "saw", "stars", "telescopes", "with"]


def _ms_grammar():
    N = {a: i for i, a in enumerate(MS_NONTERMINALS)}
    W = {w: i for i, w in enumerate(MS_WORDS)}
    binary = np.zeros((6, 6, 6))
    lexical = np.zeros((6, 6))
    for lhs, b, c, p in [("S", "NP", "VP", 1.0), ("PP", "P", "NP", 1.0), ("VP", "V", "NP", 0.7),
                         ("VP", "VP", "PP", 0.3), ("NP", "NP", "PP", 0.4)]:
        binary[N[lhs], N[b], N[c]] = p
    for lhs, w, p in [("P", "with", 1.0), ("V", "saw", 1.0), ("NP", "astronomers", 0.1),
                      ("NP", "ears", 0.18), ("NP", "saw", 0.04), ("NP", "stars", 0.18),
                      ("NP", "telescopes", 0.1)]:
        lexical[N[lhs], W[w]] = p
    sentence = np.array([W[w] for w in "astronomers saw stars with ears".split()])
    return binary, lexical, sentence


MS_GRAMMAR = _ms_grammar()   # (binary[A,B,C] = p(A -> B C), lexical[A,w] = p(A -> w), sentence)
MS_PROB = 0.0015876          # P("astronomers saw stars with ears"), published


def _trees(binary, lexical, sent, A, i, j):
    """Yield (probability, binary-rule counts, lexical-rule counts) of every tree A =>* sent[i:j]."""
    N, V = lexical.shape
    if j - i == 1:
        p = lexical[A, sent[i]]
        if p > 0:
            lex = np.zeros((N, V))
            lex[A, sent[i]] = 1
            yield p, np.zeros((N, N, N)), lex
        return
    for k in range(i + 1, j):
        for B, C in zip(*np.nonzero(binary[A]), strict=True):
            for pl, bl, ll in _trees(binary, lexical, sent, B, i, k):
                for pr, br, lr in _trees(binary, lexical, sent, C, k, j):
                    b = bl + br
                    b[A, B, C] += 1
                    yield binary[A, B, C] * pl * pr, b, ll + lr


def brute_force_pcfg(binary, lexical, sent, root: int = 0):
    """Enumerate every parse tree of ``sent`` in a CNF PCFG given as arrays.

    Returns ``(p, inside, binary_counts, lexical_counts)``: p(sentence); the inside chart
    ``inside[i, j, A] = p(A =>* w_i..w_{j-1})`` (shape (n, n+1, N), zero where j <= i) from enumerating
    the subtrees of every span; and the expected rule counts E[c(A -> B C)], E[c(A -> w)] under
    p(tree | sentence) from enumerating whole trees. Only for tiny sentences.
    """
    binary, lexical = np.asarray(binary, dtype=float), np.asarray(lexical, dtype=float)
    sent = np.asarray(sent, dtype=int)
    N, n = lexical.shape[0], len(sent)
    inside = np.zeros((n, n + 1, N))
    for i in range(n):
        for j in range(i + 1, n + 1):
            for A in range(N):
                inside[i, j, A] = sum(p for p, _, _ in _trees(binary, lexical, sent, A, i, j))
    total = 0.0
    bcounts = np.zeros_like(binary)
    lcounts = np.zeros_like(lexical)
    for p, b, lex in _trees(binary, lexical, sent, root, 0, n):
        total += p
        bcounts += p * b
        lcounts += p * lex
    if total > 0:
        bcounts /= total
        lcounts /= total
    return total, inside, bcounts, lcounts


# --------------------------------------------------------------------------------------------------
# small random models for the cases


def random_hmm(K: int, V: int, seed: int):
    """A random (start, trans, emit) with K states and V symbols, rows summing to 1."""
    rng = np.random.default_rng(seed)
    start = rng.dirichlet(np.ones(K))
    trans = rng.dirichlet(np.ones(K), size=K)
    emit = rng.dirichlet(np.ones(V), size=K)
    return start, trans, emit


def _hmm_cases(seeds=(0, 1)):
    ic = ICE_CREAM
    yield "ice cream '3 1 3' (Jurafsky & Martin)", ic.start, ic.trans, ic.emit, ic.seq
    for seed in seeds:
        start, trans, emit = random_hmm(3, 4, seed)
        seq = np.random.default_rng(seed + 10).integers(0, 4, size=5)
        yield f"random 3-state HMM, sequence {seq.tolist()}", start, trans, emit, seq
    start, trans, emit = random_hmm(2, 3, 7)
    yield "a sequence of length 1", start, trans, emit, np.array([1])


# --------------------------------------------------------------------------------------------------
# checks, one per exercise function


def _sympy_by_name(expr, values: dict):
    import sympy as sp

    subs = {s: values[s.name] for s in expr.free_symbols if s.name in values}
    return complex(sp.N(expr.subs(subs)))


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
                got = _sympy_by_name(names[f"theta_{k}"], counts)
                want = counts[f"c_{k}"] / N
                if abs(got - want) > 1e-9:
                    return (f"theta_{k} = {names[f'theta_{k}']} gives {got.real:.6g} with counts "
                            f"{list(counts.values())}; expected c_{k}/N = {want:.6g}")
            lam = names.get("lambda")
            if lam is None:
                return f"no solution for lambda; keys are {sorted(names)}"
            if abs(_sympy_by_name(lam, counts) - N) > 1e-9:
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
            got = np.array([[_sympy_by_name(H[i, j], values).real for j in range(K)] for i in range(K)])
            return compare_array(want, "H at theta=(0.1, 0.2, ...), c=(2, 3, ...)")(got)

        cases.append(Case(f"K = {K}", lambda K=K: hessian(K), compare))
    return run_cases("hessian", cases, "diag(-c_k / theta_k^2)")


# Do & Batzoglou (2008), "What is the expectation maximization algorithm?": 5 sets of 10 tosses.
COINS_HEADS = np.array([5, 9, 8, 4, 7])
COINS_FLIPS = np.array([10, 10, 10, 10, 10])


def coins_posterior(theta_a: float, theta_b: float, heads, flips) -> np.ndarray:
    """p(coin | tosses) for two coins chosen with equal probability: (N, 2), by Bayes' rule."""
    heads, flips = np.asarray(heads, float), np.asarray(flips, float)
    la = theta_a ** heads * (1 - theta_a) ** (flips - heads)
    lb = theta_b ** heads * (1 - theta_b) ** (flips - heads)
    return np.stack([la, lb], axis=1) / (la + lb)[:, None]


def check_coins_e_step(e_step) -> CheckResult:
    cases = [Case(f"theta = ({a}, {b}), Do & Batzoglou's tosses",
                  lambda a=a, b=b: e_step(a, b, COINS_HEADS, COINS_FLIPS),
                  compare_array(coins_posterior(a, b, COINS_HEADS, COINS_FLIPS), "responsibilities"))
             for a, b in [(0.6, 0.5), (0.3, 0.9)]]
    return run_cases("e_step", cases, "Bayes' rule")


def check_coins_m_step(m_step) -> CheckResult:
    cases = []
    for a, b in [(0.6, 0.5), (0.3, 0.9)]:
        r = coins_posterior(a, b, COINS_HEADS, COINS_FLIPS)
        want = (r.T @ COINS_HEADS) / (r.T @ COINS_FLIPS)
        cases.append(Case(f"responsibilities from theta = ({a}, {b})",
                          lambda r=r: tuple(m_step(r, COINS_HEADS, COINS_FLIPS)),
                          compare_array(want, "(theta_A, theta_B)")))
    return run_cases("m_step", cases, "expected heads / expected tosses")


def check_forward(forward) -> CheckResult:
    """Exercise 03a: ``forward(start, trans, emit, seq)`` -> alpha (T, K), alpha[t,k] = p(x_1..x_t, y_t=k)."""
    cases = [Case(label, lambda a=(s, t, e, x): forward(*a),
                  compare_array(brute_force_hmm(s, t, e, x)[1], "alpha"))
             for label, s, t, e, x in _hmm_cases()]
    return run_cases("forward", cases, "brute-force enumeration of all state paths")


def check_log_likelihood(log_likelihood) -> CheckResult:
    """Exercise 03a: ``log_likelihood(start, trans, emit, seq)`` -> log p(x), finite for long sequences."""
    cases = [Case(label, lambda a=(s, t, e, x): log_likelihood(*a),
                  compare_scalar(float(np.log(brute_force_hmm(s, t, e, x)[0])), "log p(x)"))
             for label, s, t, e, x in _hmm_cases()]
    start, trans, emit = random_hmm(2, 3, 3)
    long = np.random.default_rng(3).integers(0, 3, size=2000)

    def finite(got):
        try:
            v = float(got)
        except (TypeError, ValueError):
            return f"should be a number, got {type(got).__name__}"
        if not np.isfinite(v):
            return (f"log p(x) = {v} for a 2000-step sequence: the probabilities underflowed. "
                    "Rescale alpha at every step (or work in log space).")
        if not -2000 * np.log(3) * 3 < v < 0:
            return f"log p(x) = {v} is not plausible for 2000 symbols from 3"
        return None

    cases.append(Case("a 2000-step sequence (underflow test)",
                      lambda: log_likelihood(start, trans, emit, long), finite))
    return run_cases("log_likelihood", cases, "brute-force enumeration (and stays finite on 2000 steps)")


def check_backward(backward) -> CheckResult:
    """Exercise 03b: ``backward(trans, emit, seq)`` -> beta (T, K), beta[t,k] = p(x_{t+1}..x_T | y_t=k)."""
    cases = [Case(label, lambda a=(t, e, x): backward(*a),
                  compare_array(brute_force_hmm(s, t, e, x)[2], "beta"))
             for label, s, t, e, x in _hmm_cases()]
    return run_cases("backward", cases, "brute-force enumeration of all state paths")


def check_posteriors(posteriors) -> CheckResult:
    """Exercise 03b: ``posteriors(start, trans, emit, seq)`` -> (gamma (T, K), xi (T-1, K, K))."""
    cases = []
    for label, s, t, e, x in _hmm_cases():
        _, _, _, gamma, xi = brute_force_hmm(s, t, e, x)
        cases.append(Case(label, lambda a=(s, t, e, x): posteriors(*a),
                          compare_tuple(compare_array(gamma, "gamma"), compare_array(xi, "xi"))))
    return run_cases("posteriors", cases, "brute-force enumeration of all state paths")


def hmm_expected_counts_reference(start, trans, emit, seqs):
    """Expected counts by enumerating every state path of every sequence (tiny inputs only)."""
    K, V = np.shape(emit)
    cs, ct, ce = np.zeros(K), np.zeros((K, K)), np.zeros((K, V))
    for seq in seqs:
        _, _, _, gamma, xi = brute_force_hmm(start, trans, emit, seq)
        cs += gamma[0]
        ct += xi.sum(axis=0)
        for t, v in enumerate(seq):
            ce[:, v] += gamma[t]
    return cs, ct, ce


def _posteriors_of(start, trans, emit, seqs):
    return [brute_force_hmm(start, trans, emit, x)[3:] for x in seqs]


def check_expected_counts(expected_counts) -> CheckResult:
    """Exercise 03c: ``expected_counts(posteriors, seqs, V)`` -> (start, trans, emit) counts."""
    cases = []
    for seed in (0, 1):
        start, trans, emit = random_hmm(2, 3, seed)
        seqs = [np.array([0, 2, 1, 1]), np.array([2, 2, 0])]
        post = _posteriors_of(start, trans, emit, seqs)
        want = hmm_expected_counts_reference(start, trans, emit, seqs)
        cases.append(Case(f"random 2-state HMM (seed {seed}), two sequences",
                          lambda p=post, s=seqs: expected_counts(p, s, 3),
                          compare_tuple(*(compare_array(w, n) for w, n in zip(
                              want, ("start_counts", "trans_counts", "emit_counts"), strict=True)))))
    return run_cases("expected_counts", cases, "counts over all state paths weighted by their posterior")


def check_m_step_hmm(m_step) -> CheckResult:
    """Exercise 03c: ``m_step(start_counts, trans_counts, emit_counts)`` -> (start, trans, emit)."""
    cs, ct, ce = np.array([1.0, 3.0]), np.array([[1.0, 1.0], [0.5, 1.5]]), np.array([[2.0, 0.0, 2.0],
                                                                                      [1.0, 1.0, 2.0]])
    want = (cs / cs.sum(), ct / ct.sum(1, keepdims=True), ce / ce.sum(1, keepdims=True))
    cases = [Case("hand-made counts", lambda: m_step(cs, ct, ce),
                  compare_tuple(*(compare_array(w, n) for w, n in zip(want, ("start", "trans", "emit"),
                                                                       strict=True))))]
    return run_cases("m_step", cases, "normalizing each row of the counts")


def _pcfg_cases():
    binary, lexical, sent = MS_GRAMMAR
    yield "astronomers saw stars with ears (Manning & Schütze)", binary, lexical, sent
    yield "astronomers saw stars", binary, lexical, sent[:3]
    rng = np.random.default_rng(5)
    N, V = 3, 2
    b = rng.dirichlet(np.ones(N * N + V), size=N)
    yield ("random 3-nonterminal grammar, 4 words", b[:, : N * N].reshape(N, N, N), b[:, N * N:],
           np.array([0, 1, 1, 0]))


def _chart(inside_small):
    n, _, N = inside_small.shape
    full = np.zeros((n + 1, n + 1, N))
    full[:n] = inside_small
    return full


def check_inside(inside) -> CheckResult:
    """Exercise 04a: ``inside(binary, lexical, sentence)`` -> chart (n+1, n+1, N) with
    ``chart[i, j, A] = p(A =>* w_i..w_{j-1})``."""
    cases = [Case(label, lambda a=(b, lex, s): inside(*a),
                  compare_array(_chart(brute_force_pcfg(b, lex, s)[1]), "inside"))
             for label, b, lex, s in _pcfg_cases()]
    return run_cases("inside", cases, "brute-force enumeration of all trees")


def check_sentence_probability(sentence_probability) -> CheckResult:
    cases = [Case(label, lambda a=(b, lex, s): sentence_probability(*a),
                  compare_scalar(brute_force_pcfg(b, lex, s)[0], "p(sentence)"))
             for label, b, lex, s in _pcfg_cases()]
    return run_cases("sentence_probability", cases, "brute-force enumeration (0.0015876 for M&S)")


def outside_reference(binary, lexical, sent, root: int = 0):
    """Outside chart from the identity E[c(A spans i..j)] = alpha(i,j,A) beta(i,j,A) / p, computed by
    enumerating trees for the expectations... here instead by the definition: alpha(i,j,A) =
    d p(sentence) / d beta(i,j,A), obtained by finite differences would be slow, so we enumerate
    'trees with a hole': p(S =>* w_0..w_{i-1} A w_j..w_{n-1})."""
    binary, lexical = np.asarray(binary, float), np.asarray(lexical, float)
    n, N = len(sent), lexical.shape[0]
    _, ins, _, _ = brute_force_pcfg(binary, lexical, sent, root)
    inside = _chart(ins)
    out = np.zeros((n + 1, n + 1, N))
    for i in range(n):
        for j in range(i + 1, n + 1):
            for A in range(N):
                out[i, j, A] = _hole(binary, inside, root, 0, n, i, j, A)
    return out


def _hole(binary, inside, X, a, b, i, j, A):
    """Probability that X spans a..b with a hole (A over i..j) inside, the hole contributing 1."""
    if (a, b) == (i, j):
        return 1.0 if X == A else 0.0
    total = 0.0
    for k in range(a + 1, b):
        for B, C in zip(*np.nonzero(binary[X]), strict=True):
            if a <= i and j <= k:        # the hole is in the left child
                total += binary[X, B, C] * _hole(binary, inside, B, a, k, i, j, A) * inside[k, b, C]
            elif k <= i and j <= b:      # in the right child
                total += binary[X, B, C] * inside[a, k, B] * _hole(binary, inside, C, k, b, i, j, A)
    return total


def check_outside(outside, inside_fn) -> CheckResult:
    """Exercise 04b: ``outside(binary, lexical, sentence, inside_chart)`` -> chart (n+1, n+1, N)."""
    cases = [Case(label, lambda a=(b, lex, s): outside(*a, inside_fn(*a)),
                  compare_array(outside_reference(b, lex, s), "outside"))
             for label, b, lex, s in _pcfg_cases()]
    return run_cases("outside", cases, "enumeration of all trees with a hole at (i, j, A)")


def check_expected_rule_counts(expected_rule_counts) -> CheckResult:
    """Exercise 04b: ``expected_rule_counts(binary, lexical, sentence)`` -> (binary, lexical) counts."""
    cases = []
    for label, b, lex, s in _pcfg_cases():
        _, _, bc, lc = brute_force_pcfg(b, lex, s)
        cases.append(Case(label, lambda a=(b, lex, s): expected_rule_counts(*a),
                          compare_tuple(compare_array(bc, "binary_counts"),
                                        compare_array(lc, "lexical_counts"))))
    return run_cases("expected_rule_counts", cases,
                     "rule counts over all trees weighted by p(tree | sentence)")


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
        cases.append(Case(f"theta0={theta0}, tol={tol}, max_iter={max_iter}",
                          lambda a=(theta0, tol, max_iter): run_em(step, loglik, *a),
                          compare_tuple(compare_scalar(theta, "theta"), compare_array(lls, "lls"))))
    return run_cases("run_em", cases, "the relative-change stopping rule")


def check_hard_e_step(hard_e_step) -> CheckResult:
    cases = []
    for a, b in [(0.6, 0.5), (0.3, 0.9)]:
        r = coins_posterior(a, b, COINS_HEADS, COINS_FLIPS)
        want = np.eye(2)[np.argmax(r, axis=1)]
        cases.append(Case(f"theta = ({a}, {b})", lambda a=a, b=b: hard_e_step(a, b, COINS_HEADS, COINS_FLIPS),
                          compare_array(want, "assignments (one-hot)")))
    return run_cases("hard_e_step", cases, "the most probable coin for every set of tosses")


def check_kmeans_step(kmeans_step) -> CheckResult:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [4.0, 4.0], [5.0, 4.0], [10.0, 0.0]])
    cases = []
    for C in (np.array([[0.0, 0.0], [5.0, 5.0]]), np.array([[1.0, 1.0], [4.0, 4.0], [100.0, 100.0]])):
        d = ((X[:, None] - C[None]) ** 2).sum(-1)
        z = d.argmin(1)
        new = np.array([X[z == k].mean(0) if (z == k).any() else C[k] for k in range(len(C))])
        cases.append(Case(f"{len(C)} centres", lambda C=C: kmeans_step(X, C),
                          compare_tuple(compare_array(z, "labels"), compare_array(new, "centres"))))
    return run_cases("kmeans_step", cases, "nearest centre, then the mean of each cluster")
