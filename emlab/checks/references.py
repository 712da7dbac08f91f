"""Independent references for the exercises: brute-force enumeration of all state paths (HMMs)
and all trees (PCFGs), Bayes' rule for the two coins, and small random models. Plain numpy, no
other part of emlab, so a check never trusts the code it checks.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import pickle
from pathlib import Path

import numpy as np

from emlab.data.arrays import ICE_CREAM, MS_GRAMMAR, MS_NONTERMINALS, MS_PROB, MS_WORDS  # noqa: F401 (re-exported)
from emlab.data.coins import COINS_FLIPS, COINS_HEADS  # noqa: F401  (re-exported)


def _remembered(func):
    """Enumeration is exponential, and a grader asks for the same hidden cases for every student:
    remember each answer in this process and, when ``EMLAB_REFERENCE_CACHE`` names a folder (the
    grader's private one), on disk for the grader's other workers. Keyed by the arguments' bytes."""
    memory: dict[str, object] = {}

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        h = hashlib.sha256(func.__name__.encode())
        for a in (*args, *sorted(kwargs.items())):
            arr = np.asarray(a[1] if isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], str) else a)
            h.update(repr((arr.dtype.str, arr.shape)).encode() + np.ascontiguousarray(arr).tobytes())
        key = h.hexdigest()
        if key in memory:
            return memory[key]
        folder = os.environ.get("EMLAB_REFERENCE_CACHE")
        path = Path(folder) / f"{key}.pickle" if folder else None
        if path is not None and path.is_file():
            value = pickle.loads(path.read_bytes())  # written by the grader itself, never by a student
        else:
            value = func(*args, **kwargs)
            if path is not None:
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(pickle.dumps(value))
                tmp.replace(path)
        memory[key] = value
        return value

    return wrapper


@_remembered
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
            tail = float(np.prod(probs[t + 1 :])) if t + 1 < T else 1.0
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
    return 1.0 / K**t


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


@_remembered
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


def sympy_value(expr, values: dict):
    import sympy as sp

    subs = {s: values[s.name] for s in expr.free_symbols if s.name in values}
    return complex(sp.N(expr.subs(subs)))


def coins_posterior(theta_a: float, theta_b: float, heads, flips) -> np.ndarray:
    """p(coin | tosses) for two coins chosen with equal probability: (N, 2), by Bayes' rule."""
    heads, flips = np.asarray(heads, float), np.asarray(flips, float)
    la = theta_a**heads * (1 - theta_a) ** (flips - heads)
    lb = theta_b**heads * (1 - theta_b) ** (flips - heads)
    return np.stack([la, lb], axis=1) / (la + lb)[:, None]


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


def posteriors_of(start, trans, emit, seqs):
    return [brute_force_hmm(start, trans, emit, x)[3:] for x in seqs]


def chart_from_enumeration(inside_small):
    n, _, N = inside_small.shape
    full = np.zeros((n + 1, n + 1, N))
    full[:n] = inside_small
    return full


@_remembered
def outside_reference(binary, lexical, sent, root: int = 0):
    """Outside chart from the identity E[c(A spans i..j)] = alpha(i,j,A) beta(i,j,A) / p, computed by
    enumerating trees for the expectations... here instead by the definition: alpha(i,j,A) =
    d p(sentence) / d beta(i,j,A), obtained by finite differences would be slow, so we enumerate
    'trees with a hole': p(S =>* w_0..w_{i-1} A w_j..w_{n-1})."""
    binary, lexical = np.asarray(binary, float), np.asarray(lexical, float)
    n, N = len(sent), lexical.shape[0]
    _, ins, _, _ = brute_force_pcfg(binary, lexical, sent, root)
    inside = chart_from_enumeration(ins)
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
            if a <= i and j <= k:  # the hole is in the left child
                total += binary[X, B, C] * _hole(binary, inside, B, a, k, i, j, A) * inside[k, b, C]
            elif k <= i and j <= b:  # in the right child
                total += binary[X, B, C] * inside[a, k, B] * _hole(binary, inside, C, k, b, i, j, A)
    return total


# --------------------------------------------------------------------------------------------------
# HMMs with Collins' STOP (lecture 03), Viterbi, sampling: enumeration of every state path


def _path_joint(start, trans, emit, stop, seq, path) -> float:
    """p(x, y) = start[y_1] e(x_1|y_1) Π_t q(y_t|y_{t-1}) e(x_t|y_t) · stop[y_T] (stop None: 1)."""
    p = start[path[0]] * emit[path[0], seq[0]]
    for t in range(1, len(seq)):
        p *= trans[path[t - 1], path[t]] * emit[path[t], seq[t]]
    return float(p * (stop[path[-1]] if stop is not None else 1.0))


@_remembered
def brute_force_hmm_stop(start, trans, emit, stop, seq):
    """Enumerate all K**T state paths of an HMM with STOP probabilities ``stop[k] = q(STOP | k)``.

    Returns ``(p, alpha, beta, gamma, xi)`` with p = p(x) (the STOP factor included);
    ``alpha[t,k] = p(x_1..x_t, y_t=k)`` (no STOP factor yet), ``beta[t,k] = p(x_{t+1}..x_T, STOP | y_t=k)``
    (so ``beta[T-1] = stop``), ``gamma``, ``xi`` the posteriors given x. Each prefix and suffix is
    enumerated on its own (no shared code with the algorithms it checks).
    """
    start, trans, emit, stop = (np.asarray(a, dtype=float) for a in (start, trans, emit, stop))
    seq = np.asarray(seq, dtype=int)
    K, T = len(start), len(seq)
    alpha, beta = np.zeros((T, K)), np.zeros((T, K))
    for t in range(T):
        for prefix in itertools.product(range(K), repeat=t + 1):
            alpha[t, prefix[-1]] += _path_joint(start, trans, emit, None, seq[: t + 1], prefix)
        for k in range(K):
            for suffix in itertools.product(range(K), repeat=T - 1 - t):
                p, prev = 1.0, k
                for u, y in enumerate(suffix, start=t + 1):
                    p *= trans[prev, y] * emit[y, seq[u]]
                    prev = y
                beta[t, k] += p * stop[prev]
    gamma, xi, total = np.zeros((T, K)), np.zeros((max(T - 1, 0), K, K)), 0.0
    for path in itertools.product(range(K), repeat=T):
        joint = _path_joint(start, trans, emit, stop, seq, path)
        total += joint
        for t in range(T):
            gamma[t, path[t]] += joint
        for t in range(T - 1):
            xi[t, path[t], path[t + 1]] += joint
    return total, alpha, beta, gamma / total, xi / total


def hmm_stop_expected_counts_reference(start, trans, emit, stop, seqs):
    """(start, trans, emit, stop) expected counts by enumerating every path of every sequence."""
    K, V = np.shape(emit)
    cs, ct, ce, cf = np.zeros(K), np.zeros((K, K)), np.zeros((K, V)), np.zeros(K)
    for seq in seqs:
        _, _, _, gamma, xi = brute_force_hmm_stop(start, trans, emit, stop, seq)
        cs += gamma[0]
        ct += xi.sum(axis=0)
        cf += gamma[-1]
        for t, v in enumerate(seq):
            ce[:, v] += gamma[t]
    return cs, ct, ce, cf


def random_hmm_stop(K: int, V: int, seed: int):
    """A random (start, trans, emit, stop): each ``[trans[i] | stop[i]]`` one Dirichlet draw."""
    rng = np.random.default_rng(seed)
    start = rng.dirichlet(np.ones(K))
    rows = rng.dirichlet(np.ones(K + 1), size=K)
    emit = rng.dirichlet(np.ones(V), size=K)
    return start, rows[:, :K], emit, rows[:, K]


@_remembered
def path_posteriors(start, trans, emit, seq, stop=None):
    """p(y | x) of every state path, as a dict {path tuple: probability} (tiny K**T only)."""
    start, trans, emit = (np.asarray(a, dtype=float) for a in (start, trans, emit))
    stop = None if stop is None else np.asarray(stop, dtype=float)
    seq = np.asarray(seq, dtype=int)
    joint = {
        path: _path_joint(start, trans, emit, stop, seq, path)
        for path in itertools.product(range(len(start)), repeat=len(seq))
    }
    total = sum(joint.values())
    return {path: p / total for path, p in joint.items()}


def brute_force_viterbi(start, trans, emit, seq, stop=None):
    """``(best path as an int array, log p(x, best path))`` over all K**T paths (stop optional)."""
    start, trans, emit = (np.asarray(a, dtype=float) for a in (start, trans, emit))
    stop = None if stop is None else np.asarray(stop, dtype=float)
    seq = np.asarray(seq, dtype=int)
    best, best_p = None, -1.0
    for path in itertools.product(range(len(start)), repeat=len(seq)):
        p = _path_joint(start, trans, emit, stop, seq, path)
        if p > best_p:
            best, best_p = path, p
    return np.array(best), float(np.log(best_p)) if best_p > 0 else -np.inf


def path_log_prob(start, trans, emit, seq, path, stop=None) -> float:
    """log p(x, y) of one state path, summed in log space (any length; −inf if impossible)."""
    start, trans, emit = (np.asarray(a, dtype=float) for a in (start, trans, emit))
    seq, path = np.asarray(seq, dtype=int), np.asarray(path, dtype=int)
    factors = [start[path[0]], *trans[path[:-1], path[1:]], *emit[path, seq]]
    if stop is not None:
        factors.append(np.asarray(stop, dtype=float)[path[-1]])
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log(factors)))


# --------------------------------------------------------------------------------------------------
# PCFGs: the best tree (CKY, lecture 04) by enumeration, and trees as nested tuples


def _tree_list(binary, lexical, sent, A, i, j):
    """Every (probability, tree) with A =>* sent[i:j]; a tree is ``(A, w)`` for A -> w or
    ``(A, left, right)`` for A -> B C."""
    if j - i == 1:
        p = lexical[A, sent[i]]
        return [(float(p), (A, int(sent[i])))] if p > 0 else []
    out = []
    for k in range(i + 1, j):
        for B, C in zip(*np.nonzero(binary[A]), strict=True):
            for pl, tl in _tree_list(binary, lexical, sent, int(B), i, k):
                for pr, tr in _tree_list(binary, lexical, sent, int(C), k, j):
                    out.append((float(binary[A, B, C]) * pl * pr, (A, tl, tr)))
    return out


@_remembered
def best_tree_reference(binary, lexical, sent, root: int = 0):
    """``(max over trees of p(tree), one best tree)`` by enumerating every tree of ``sent``."""
    binary, lexical = np.asarray(binary, dtype=float), np.asarray(lexical, dtype=float)
    trees = _tree_list(binary, lexical, np.asarray(sent, dtype=int), root, 0, len(sent))
    if not trees:
        return 0.0, None
    return max(trees, key=lambda pt: pt[0])


def tree_problem(tree, binary, lexical, sent, root: int = 0):
    """``(probability, None)`` of a tree in the nested-tuple format if it is a tree of the
    grammar over ``sent`` rooted in ``root``, else ``(None, sentence saying what is wrong)``."""
    binary, lexical = np.asarray(binary, dtype=float), np.asarray(lexical, dtype=float)
    words: list[int] = []

    def walk(node, depth=0):
        if depth > 200:
            raise ValueError("the tree is nested too deeply")
        if not isinstance(node, (tuple, list)) or len(node) not in (2, 3):
            raise ValueError(f"a node should be (A, w) or (A, left, right), got {node!r:.80}")
        A = int(node[0])
        if not 0 <= A < lexical.shape[0]:
            raise ValueError(f"nonterminal {A} does not exist")
        if len(node) == 2:
            w = int(node[1])
            words.append(w)
            return float(lexical[A, w]) if 0 <= w < lexical.shape[1] else 0.0
        pl, pr = walk(node[1], depth + 1), walk(node[2], depth + 1)
        B, C = int(node[1][0]), int(node[2][0])
        return float(binary[A, B, C]) * pl * pr

    try:
        p = walk(tree)
    except (TypeError, ValueError, IndexError) as exc:
        return None, f"not a tree in the format (A, w) / (A, left, right): {exc}"
    if int(tree[0]) != root:
        return None, f"the root is nonterminal {int(tree[0])}, not the start symbol {root}"
    if words != [int(w) for w in sent]:
        return None, f"the leaves read {words}, not the sentence {[int(w) for w in sent]}"
    if p == 0:
        return None, "the tree uses a rule of probability 0"
    return p, None
