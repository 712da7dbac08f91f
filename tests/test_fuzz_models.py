"""Fuzzing the model modules' public API (DESIGN.md's contract: hmm, pcfg, mixture, em) as a new user
would call it: odd types and values for every array and scalar, empty and huge data, odd EM
arguments. The rule (issue 10, item 6): a correct result, or a ValueError/TypeError naming the
argument; never another exception, NaN, a RuntimeWarning or a hang.

These tests describe the required behaviour. Cases that fail on the code they were written against
carry ``xfail(strict=False)`` with the reason, to be removed once the model modules keep the rule.
Results are checked against independent references where one is cheap: brute-force enumeration of
state paths, the published Manning & Schütze sentence probability.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz_helpers import REFUSED, finishes, messy_arrays, messy_sequences, outcome, scalars

from emlab import em, hmm, loglinear, mixture, pcfg
from emlab.data import grammars

pytestmark = pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")

START, TRANS, EMIT = [0.6, 0.4], [[0.7, 0.3], [0.2, 0.8]], [[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]]
HMM2 = hmm.HMM(START, TRANS, EMIT)
HMM2_STOP = hmm.HMM(START, [[0.6, 0.3], [0.2, 0.7]], EMIT, stop=[0.1, 0.1])
SEQS = [np.array([0, 1, 2, 2, 1]), np.array([2, 2, 0])]
GRAMMAR = grammars.manning_schutze_grammar()
SENTENCE = list(grammars.MANNING_SCHUTZE_SENTENCE)
MIX = mixture.CategoricalMixture([0.5, 0.5], [[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
COUNTS = np.array([[3, 1, 0], [0, 2, 4], [1, 1, 1], [5, 0, 1]])
POINTS = np.array([[0.0, 0.1], [0.2, -0.1], [3.0, 3.1], [2.9, 3.2]])

SEQUENCE_NAMES = ("sequence", "seq", "corpus", "symbol")
HMM_ARRAYS = ("start", "trans", "emit", "stop")


def brute_force_log_likelihood(m, seq) -> float:
    """``log Σ_y p(x, y)`` by enumerating every state path (the reference for short sequences)."""
    K = len(m.start)
    total = 0.0
    for path in itertools.product(range(K), repeat=len(seq)):
        p = m.start[path[0]] * m.emit[path[0], seq[0]]
        for t in range(1, len(seq)):
            p *= m.trans[path[t - 1], path[t]] * m.emit[path[t], seq[t]]
        if m.stop is not None:
            p *= m.stop[path[-1]]
        total += p
    return math.log(total) if total > 0 else -math.inf


# ------------------------------------------------------------------------------------------ HMM

@given(start=messy_arrays(max_dims=2), trans=messy_arrays(max_dims=3), emit=messy_arrays(max_dims=3))
@settings(max_examples=150)
def test_hmm_constructor_validates_every_array(start, trans, emit):
    m = outcome(lambda: hmm.HMM(start, trans, emit), *HMM_ARRAYS)
    if m is not REFUSED:
        np.testing.assert_allclose(m.trans.sum(axis=1), 1.0, atol=1e-8)
        np.testing.assert_allclose(m.emit.sum(axis=1), 1.0, atol=1e-8)


@given(stop=messy_arrays(max_dims=2))
@settings(max_examples=60)
def test_hmm_constructor_validates_stop(stop):
    m = outcome(lambda: hmm.HMM(START, [[0.6, 0.3], [0.2, 0.7]], EMIT, stop=stop), *HMM_ARRAYS)
    if m is not REFUSED:
        np.testing.assert_allclose(m.trans.sum(axis=1) + m.stop, 1.0, atol=1e-8)


@given(seq=messy_sequences(V=3, max_len=6), with_stop=st.booleans())
@settings(max_examples=120)
def test_log_likelihood_matches_enumeration_or_names_the_sequence(seq, with_stop):
    m = HMM2_STOP if with_stop else HMM2
    ll = outcome(lambda: hmm.log_likelihood(m, seq), *SEQUENCE_NAMES)
    if ll is not REFUSED:
        corpus = [seq] if np.ndim(seq) == 1 else seq   # a 2-D list is a corpus of sequences
        reference = sum(brute_force_log_likelihood(m, np.asarray(s, dtype=int)) for s in corpus)
        assert ll == pytest.approx(reference, rel=1e-10)


@given(corpus=st.lists(messy_sequences(V=3, max_len=5), max_size=3))
@settings(max_examples=80)
def test_a_corpus_of_odd_sequences_is_summed_or_the_bad_one_named(corpus):
    ll = outcome(lambda: hmm.log_likelihood(HMM2, corpus), *SEQUENCE_NAMES)
    if ll is not REFUSED:
        reference = sum(brute_force_log_likelihood(HMM2, np.asarray(s, dtype=int)) for s in corpus)
        assert ll == pytest.approx(reference, rel=1e-10)


@given(seq=messy_sequences(V=3, max_len=6))
@settings(max_examples=80)
def test_posteriors_and_viterbi_on_odd_sequences(seq):
    post = outcome(lambda: hmm.posteriors(HMM2, seq), *SEQUENCE_NAMES)
    if post is not REFUSED:
        gamma, xi = post
        np.testing.assert_allclose(gamma.sum(axis=1), 1.0, atol=1e-10)
        np.testing.assert_allclose(xi.sum(axis=(1, 2)), 1.0, atol=1e-10)
    best = outcome(lambda: hmm.viterbi(HMM2, seq), *SEQUENCE_NAMES)
    if best is not REFUSED:
        path, log_prob = best
        assert path.shape == (len(seq),) and np.all((path >= 0) & (path < 2))
        assert log_prob <= hmm.log_likelihood(HMM2, seq) + 1e-10


# Emitting only symbol 0 from state 0 and only symbol 1 from state 1, with no way from 0 to 1:
# the sequence (0, 1) has probability 0.
IMPOSSIBLE = hmm.HMM([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]])


def test_log_likelihood_of_an_impossible_sequence_is_minus_infinity():
    assert outcome(lambda: hmm.log_likelihood(IMPOSSIBLE, [0, 1]), *SEQUENCE_NAMES) == -math.inf


def test_posteriors_refuse_an_impossible_sequence_by_name():
    assert outcome(lambda: hmm.posteriors(IMPOSSIBLE, [0, 1]), *SEQUENCE_NAMES) is REFUSED


def test_backward_on_an_impossible_sequence_is_refused_or_finite():
    outcome(lambda: hmm.backward(IMPOSSIBLE, [0, 1]), *SEQUENCE_NAMES)


def test_denormal_emissions_give_a_finite_log_likelihood():
    tiny = 5e-324
    m = hmm.HMM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], [[1 - tiny, tiny], [1 - tiny, tiny]])
    ll = outcome(lambda: hmm.log_likelihood(m, [1, 1]), *SEQUENCE_NAMES)
    assert ll is not REFUSED and math.isfinite(ll)
    assert ll == pytest.approx(2 * math.log(tiny), rel=1e-12)


def test_a_ragged_item_inside_a_corpus_is_named():
    assert outcome(lambda: hmm.log_likelihood(HMM2, [[0, 1], [[0, 1], [2]]]), "sequence 1") is REFUSED


@pytest.mark.parametrize("x", [0, -1, math.nan, math.inf, None, "1"])
def test_hmm_random_refuses_a_bad_concentration_by_name(x):
    assert outcome(lambda: hmm.HMM.random(2, 3, rng=0, concentration=x), "concentration") is REFUSED


@given(x=scalars(1, 3))
@settings(max_examples=40)
def test_hmm_random_sizes_are_validated(x):
    m = outcome(lambda: hmm.HMM.random(x, 3, rng=0), "K")
    if m is not REFUSED:
        assert m.trans.shape == (int(x), int(x))


@pytest.mark.parametrize("x", [-1, math.nan, None, "1"])
def test_hmm_informed_refuses_a_bad_smoothing_by_name(x):
    assert outcome(lambda: hmm.HMM.informed([[0, 1]], [[0, 1]], 2, 3, smoothing=x), "smoothing") is REFUSED


@given(n=scalars(1, 2), length=scalars(3))
@settings(max_examples=40)
def test_sample_sizes_are_validated(n, length):
    if isinstance(n, (int, float)) and not isinstance(n, bool) and n > 1000:
        n = 1000   # a large but valid number of sequences is just slow
    if isinstance(length, (int, float)) and not isinstance(length, bool) and length > 1000:
        length = 1000
    res = outcome(lambda: hmm.sample(HMM2, n, length, rng=0), "n_sequences", "length")
    if res is not REFUSED:
        xs, ys = res
        assert len(xs) == len(ys) == int(n) and all(len(x) == int(length) for x in xs)


def test_sample_does_not_hang_when_a_state_cannot_reach_stop():
    run = finishes("""
        from emlab import hmm
        # state 1 is reachable from state 0 and never leaves: it can never reach STOP
        m = hmm.HMM([1.0, 0.0], [[0.0, 0.5], [0.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]], stop=[0.5, 0.0])
        try:
            hmm.sample(m, 5, rng=0)
        except ValueError as exc:
            print("refused:", exc)
    """, timeout=30)
    assert run.returncode == 0 and "refused:" in run.stdout, run.stderr[-2000:]


# ----------------------------------------------------------------------------------------- PCFG

RULE_NAMES = ("rule", "rules", "start", "lhs", "rhs", "prob", "CNF", "S", "NP", "VP", "sums")


@given(prob=scalars(0.5, 1.0), lhs=st.sampled_from(["S", "", None, 3, ("S",)]),
       rhs=st.sampled_from([("NP", "VP"), ("a",), ("a", "b", "c"), (), "NP VP", None, ("NP", 3)]))
@settings(max_examples=120)
def test_from_rules_refuses_odd_rules_by_name(prob, lhs, rhs):
    rules = [(lhs, rhs, prob), ("NP", ("a",), 1.0), ("VP", ("b",), 1.0)]
    g = outcome(lambda: pcfg.PCFG.from_rules(rules, start="S"), *RULE_NAMES)
    if g is not REFUSED:
        assert g.prob(lhs, rhs) == pytest.approx(float(prob))


@given(start=st.sampled_from(["S", "X", None, 0, ""]))
@settings(max_examples=10)
def test_from_rules_needs_a_start_symbol_it_has(start):
    g = outcome(lambda: pcfg.PCFG.from_rules(grammars.MANNING_SCHUTZE_RULES, start=start), "start")
    assert g is REFUSED or start == "S"


sentences = st.one_of(
    st.lists(st.sampled_from(SENTENCE + ["telescopes", "unknown", "", 3, None]), max_size=6),
    st.sampled_from([None, "astronomers saw stars", [], [[]], [SENTENCE, []]]))


@given(sentence=sentences)
@settings(max_examples=100)
def test_pcfg_entry_points_on_odd_sentences(sentence):
    names = ("sentence", "word", "corpus", "empty")
    ll = outcome(lambda: pcfg.log_likelihood(GRAMMAR, sentence), *names)
    if ll is not REFUSED:
        assert ll <= 1e-12
    counts = outcome(lambda: pcfg.expected_rule_counts(GRAMMAR, sentence), *names)
    if counts is not REFUSED:
        assert all(c >= 0 for c in counts.values())
    parse = outcome(lambda: pcfg.viterbi_parse(GRAMMAR, sentence), *names)
    if parse is not REFUSED and ll is not REFUSED:
        assert parse[1] <= ll + 1e-10


def test_the_published_sentence_probability():
    assert pcfg.log_likelihood(GRAMMAR, SENTENCE) == pytest.approx(math.log(grammars.MANNING_SCHUTZE_PROB),
                                                                   rel=1e-9)


# --------------------------------------------------------------------------------------- mixtures

@given(weights=messy_arrays(max_dims=2), probs=messy_arrays(max_dims=3))
@settings(max_examples=120)
def test_categorical_mixture_validates_its_arrays(weights, probs):
    m = outcome(lambda: mixture.CategoricalMixture(weights, probs), "weights", "probs")
    if m is not REFUSED:
        np.testing.assert_allclose(np.sum(m.weights), 1.0, atol=1e-8)


def test_mixture_parameters_are_copied_and_read_only():
    w = np.array([0.5, 0.5])
    m = mixture.CategoricalMixture(w, [[0.6, 0.4], [0.3, 0.7]])
    w[0] = 0.9
    assert m.weights[0] == 0.5
    with pytest.raises(ValueError):
        m.weights[0] = 0.1


@given(X=messy_arrays(max_dims=3))
@settings(max_examples=100)
def test_mixture_log_likelihood_on_odd_data(X):
    ll = outcome(lambda: mixture.log_likelihood(MIX, X), "X", "data", "counts", "item", "row")
    if ll is not REFUSED:
        assert ll <= 1e-9 or np.asarray(X).size == 0


@given(means=messy_arrays(max_dims=3), variance=scalars(1.0))
@settings(max_examples=80)
def test_gaussian_mixture_validates_means_and_variance(means, variance):
    g = outcome(lambda: mixture.GaussianMixture([0.5, 0.5], means, variance), "means", "variance", "weights")
    if g is not REFUSED:
        assert np.all(np.asarray(g.params()["variances"] if "variances" in g.params() else 1.0) > 0)


@given(X=messy_arrays(max_dims=3), centres=messy_arrays(max_dims=3))
@settings(max_examples=100)
def test_kmeans_on_odd_points(X, centres):
    res = outcome(lambda: mixture.kmeans(X, centres, max_iter=5), "X", "centres")
    if res is not REFUSED:
        assert np.all(np.diff(res.inertia) <= 1e-9 * max(1.0, abs(res.inertia[0])))


@pytest.mark.parametrize("x", [2.5, -1, None, "5", math.nan])
def test_kmeans_refuses_a_bad_max_iter_by_name(x):
    assert outcome(lambda: mixture.kmeans(POINTS, POINTS[:2], max_iter=x), "max_iter") is REFUSED


# --------------------------------------------------------------------------------- EM arguments

MODELS = {"hmm": (HMM2, SEQS), "pcfg": (GRAMMAR, [SENTENCE]), "mixture": (MIX, COUNTS)}

KNOWN_BAD_EM_ARGUMENTS = [("tol", None), ("tol", "1e-6"), ("max_iter", True)]


@pytest.mark.parametrize("which", sorted(MODELS))
@given(method=st.sampled_from([*em.METHODS, "SOFT", "", None, 1, "viterbi"]),
       max_iter=st.sampled_from([0, 1, 3, -1, 2.5, None, "3", math.nan, np.int64(2), False]),
       tol=st.sampled_from([0, 1e-6, 0.0, -1e-3, math.nan, math.inf, np.float32(1e-4)]),
       rng=st.sampled_from([None, 0, 7, np.random.default_rng(1), "seed", 1.5]))
@settings(max_examples=40)
def test_em_fit_arguments_are_used_or_refused_by_name(which, method, max_iter, tol, rng):
    model, data = MODELS[which]
    res = outcome(lambda: em.fit(model, data, method=method, max_iter=max_iter, tol=tol, rng=rng),
                  "method", "max_iter", "tol", "rng")
    if res is REFUSED:
        return
    assert res.n_iter <= int(max_iter) and len(res.log_likelihoods) == res.n_iter + 1
    if method == "soft":
        lls = np.asarray(res.log_likelihoods)
        assert np.all(np.diff(lls) >= -1e-9 * np.maximum(np.abs(lls[:-1]), 1.0))


@pytest.mark.parametrize("arg, value", KNOWN_BAD_EM_ARGUMENTS)
def test_em_fit_refuses_the_listed_bad_arguments(arg, value):
    assert outcome(lambda: em.fit(HMM2, SEQS, **{arg: value}), arg) is REFUSED


def test_a_negative_seed_is_refused_naming_rng():
    assert outcome(lambda: em.fit(HMM2, SEQS, method="stochastic", max_iter=2, rng=-1), "rng") is REFUSED


@given(stop=st.sampled_from(["objective", "params", "likelihood", None]),
       keep=st.sampled_from([True, False, 1, None]))
@settings(max_examples=16)
def test_em_fit_stopping_rule_and_keep_models(stop, keep):
    res = outcome(lambda: em.fit(HMM2, SEQS, max_iter=3, stop=stop, keep_models=keep), "stop", "keep_models")
    if res is not REFUSED and keep:
        assert len(res.models) == res.n_iter + 1


@given(n=scalars(2))
@settings(max_examples=30)
def test_em_restarts_number_of_runs(n):
    if isinstance(n, int) and not isinstance(n, bool) and n > 5:
        n = 5
    res = outcome(lambda: em.restarts(lambda r: hmm.HMM.random(2, 3, rng=r), SEQS, n=n, max_iter=3,
                                      progress=False), "n")
    if res is not REFUSED:
        finals = [r.log_likelihood for r in res]
        assert len(res) == int(n) and finals == sorted(finals, reverse=True)


def test_em_fit_refuses_an_empty_corpus_by_name():
    for model, empty in ((HMM2, []), (GRAMMAR, []), (MIX, np.zeros((0, 3)))):
        assert outcome(lambda m=model, e=empty: em.fit(m, e, max_iter=2), "empty", "corpus", "data",
                       "X") is REFUSED



# ----------------------------------------------------------------------------------- shipped data

from emlab import data  # noqa: E402

odd_text = st.one_of(st.text(max_size=12), st.sampled_from([None, 3, b"abc", ["a"], "", "313", "0", "1 2"]))


@given(text=odd_text)
@settings(max_examples=80)
def test_encode_ice_creams_round_trips_or_names_days(text):
    codes = outcome(lambda: data.encode_ice_creams(text), "days")
    if codes is not REFUSED:
        assert "".join(str(c + 1) for c in codes) == text


@given(text=odd_text)
@settings(max_examples=80)
def test_encode_letters_round_trips_or_names_text(text):
    codes = outcome(lambda: data.encode_letters(text), "text")
    if codes is not REFUSED:
        decoded = data.decode_letters(codes)
        assert data.encode_letters(decoded).tolist() == codes.tolist()
        assert set(decoded) <= set(data.ALPHABET)


@given(codes=st.one_of(messy_sequences(V=27), messy_arrays(max_dims=2)))
@settings(max_examples=80)
def test_decode_letters_names_codes(codes):
    text = outcome(lambda: data.decode_letters(codes), "codes")
    if text is not REFUSED:
        assert len(text) == len(codes)


# ------------------------------------------------------------------ the log-linear HMM (lecture 11)
@given(weights=messy_arrays(max_dims=3), features=messy_arrays(max_dims=3), l2=scalars(0.1),
       seq=messy_sequences(V=3, max_len=5))
@settings(max_examples=120)
@pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")   # two iterations on purpose
def test_loglinear_hmm_on_odd_weights_features_and_data(weights, features, l2, seq):
    m = outcome(lambda: loglinear.LogLinearHMM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], weights, features,
                                               l2=l2), "weights", "features", "l2", "start")
    if m is REFUSED:
        return
    assert np.all(np.isfinite(m.emit)) and np.allclose(m.emit.sum(axis=1), 1.0)
    ll = outcome(lambda: em.fit(m, [seq], max_iter=2, tol=0.0), "sequence", "seq", "symbol")
    if ll is not REFUSED:
        assert np.all(np.diff(ll.objectives) >= -1e-9 * abs(ll.objectives[0]))


#: Odd corpora a new user might hand em.fit, per model: empty, ragged, bool, fractional, float32,
#: unsigned, NaN, out-of-vocabulary, strings, bytes, nested, dicts.
_ODD_HMM = hmm.HMM([0.6, 0.4], [[0.7, 0.3], [0.2, 0.8]], [[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]])
ODD_CORPORA = {
    "hmm": (_ODD_HMM, [[[]], [np.array([], int)], [[0, 1.5]], [[True, False]], [[0, 10**9]],
                       [np.array([0, 1], np.uint8)], [[0, -1]], [[0, np.nan]], [["a"]], [[[0, 1]]],
                       [[0, 1], []], [np.array([0, 1], np.float32)], [np.int64(1)], "012", [b"01"],
                       {0: [0, 1]}, np.array([[0, 1], [1, 2]])]),
    "pcfg": (grammars.toy_grammar(), [[[]], [["the", None]], [["the", "dog"], []], [["the", np.nan]],
                                      [[1, 2]], ["the dog saw a cat"], [[["the"]]], [["THE", "dog"]]]),
    "categorical mixture": (mixture.CategoricalMixture([0.5, 0.5], [[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]]),
                            [np.zeros((0, 3)), np.array([[1, 2]]), np.array([[1.5, 0, 0]]),
                             np.array([[-1, 2, 0]]), np.array([[np.nan, 1, 1]]), np.array([[0, 0, 0]]),
                             np.array([1, 2, 3]), np.array([["a", "b", "c"]])]),
    "gaussian mixture": (mixture.GaussianMixture([0.5, 0.5], [[0.0, 0.0], [3.0, 3.0]], 1.0),
                         [np.zeros((0, 2)), np.array([[1.0]]), np.array([[np.inf, 0]]),
                          np.array([[1e200, 0]]), np.array([1.0, 2.0]), np.array([["a", "b"]])]),
}
ODD_FIT_CASES = [(kind, i) for kind, (_, corpora) in ODD_CORPORA.items() for i in range(len(corpora))]


@pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")
@pytest.mark.parametrize("method", em.METHODS)
@pytest.mark.parametrize(("kind", "i"), ODD_FIT_CASES, ids=[f"{k}-{i}" for k, i in ODD_FIT_CASES])
def test_em_fit_on_odd_data_runs_or_refuses_it_under_the_name_data(kind, i, method):
    """Whatever check inside the model finds the fault, the caller reads it under their own name
    (the message begins with ``data``); a corpus that is accepted gives a run without NaN."""
    model, corpora = ODD_CORPORA[kind]
    res = outcome(lambda: em.fit(model, corpora[i], method=method, max_iter=2, rng=0), "data")
    if res is REFUSED:
        with pytest.raises((ValueError, TypeError), match=r"^data\b"):
            em.fit(model, corpora[i], method=method, max_iter=2, rng=0)
    else:
        assert np.all(np.isfinite(res.log_likelihoods))
