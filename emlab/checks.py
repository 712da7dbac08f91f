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
import importlib
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


#: The emlab modules whose functions are switched off by :func:`library_blocked`.
BLOCKED_MODULES = ("emlab.categorical", "emlab.em", "emlab.hmm", "emlab.pcfg", "emlab.mixture",
                   "emlab.symbolic", "emlab.experiments", "emlab.semiring")


def _functions_of(module: types.ModuleType):
    """Every plain function defined in ``module``, including methods of its classes."""
    seen = set()
    for value in list(vars(module).values()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            if id(value) not in seen:
                seen.add(id(value))
                yield value
        elif isinstance(value, type) and value.__module__ == module.__name__:
            for attr in vars(value).values():
                func = getattr(attr, "__func__", attr)
                if isinstance(attr, property):
                    func = attr.fget
                if isinstance(func, types.FunctionType) and id(func) not in seen:
                    seen.add(id(func))
                    yield func


@contextlib.contextmanager
def library_blocked(modules: Iterable[str] = BLOCKED_MODULES):
    """Switch off every function of the given emlab modules for the duration of the block.

    The functions' code is swapped (not just the module attribute), so a reference the student
    took earlier (``from emlab.hmm import forward``) is switched off too. Everything is restored
    on exit, even when the student's code raises.
    """
    swapped = []
    try:
        for name in modules:
            try:
                module = sys.modules.get(name) or importlib.import_module(name)
            except ImportError:
                continue
            for func in _functions_of(module):
                old = func.__code__
                try:
                    func.__code__ = _blocked.__code__.replace(co_name=old.co_name,
                                                              co_qualname=old.co_qualname)
                except ValueError:  # a closure: cannot swap code, leave it
                    continue
                swapped.append((func, old))
        yield
    finally:
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
