"""Tagging accuracies and bracket scores (emlab.metrics) against brute force."""

import itertools

import numpy as np
import pytest

from emlab import metrics


def brute_one_to_one(true, learned, n_true, n_learned):
    """The best injective map from learned states to labels (or labels to states), by enumeration."""
    best = 0
    if n_learned <= n_true:
        for image in itertools.permutations(range(n_true), n_learned):
            best = max(best, int(np.sum(np.array(image)[learned] == true)))
    else:
        for states in itertools.permutations(range(n_learned), n_true):
            best = max(best, sum(int(np.sum((learned == s) & (true == lab))) for lab, s in enumerate(states)))
    return best / len(true)


def brute_many_to_one(true, learned, n_true, n_learned):
    """The best of every map (not necessarily injective) from learned states to labels."""
    return max(np.mean(np.array(f)[learned] == true)
               for f in itertools.product(range(n_true), repeat=n_learned))


@pytest.mark.parametrize("seed", range(12))
def test_accuracies_match_enumeration(seed):
    rng = np.random.default_rng(seed)
    n_true, n_learned = int(rng.integers(2, 5)), int(rng.integers(2, 6))
    true = rng.integers(0, n_true, size=40)
    learned = rng.integers(0, n_learned, size=40)
    assert np.isclose(metrics.one_to_one(true, learned, n_true, n_learned),
                      brute_one_to_one(true, learned, n_true, n_learned))
    assert np.isclose(metrics.many_to_one(true, learned, n_true, n_learned),
                      brute_many_to_one(true, learned, n_true, n_learned))


def test_relabelled_truth_scores_one_and_lists_of_sequences_are_joined():
    true = [np.array([0, 1, 2, 2]), np.array([1, 0])]
    perm = np.array([2, 0, 1])
    learned = [perm[t] for t in true]
    assert metrics.one_to_one(true, learned) == 1.0 == metrics.many_to_one(true, learned)


def test_many_to_one_rewards_splitting_but_one_to_one_does_not():
    true = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    split = np.arange(8)                           # one state per position
    assert metrics.many_to_one(true, split) == 1.0
    assert metrics.one_to_one(true, split) == 0.25  # two positions matched, out of eight


def test_accuracy_bad_input():
    with pytest.raises(ValueError, match="learned"):
        metrics.one_to_one([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="true"):
        metrics.many_to_one([0, -1], [0, 1])


def right_branching(words, i=0):
    if len(words) == 1:
        return ("X", words[0])
    return ("X", ("X", words[0]), right_branching(words[1:], i + 1))


def left_branching(words):
    if len(words) == 1:
        return ("X", words[0])
    return ("X", left_branching(words[:-1]), ("X", words[-1]))


def all_trees(words):
    if len(words) == 1:
        yield ("X", words[0])
        return
    for k in range(1, len(words)):
        for left in all_trees(words[:k]):
            for right in all_trees(words[k:]):
                yield ("X", left, right)


def test_brackets_of_known_trees():
    w = list("abcd")
    assert metrics.brackets(right_branching(w)) == {(1, 4), (2, 4)}
    assert metrics.brackets(left_branching(w)) == {(0, 2), (0, 3)}
    # every binary tree over n words has n - 2 brackets besides the words and the whole sentence
    for n in range(2, 7):
        assert all(len(metrics.brackets(t)) == n - 2 for t in all_trees(list(range(n))))


def test_bracket_scores_by_hand_and_self():
    w = list("abcde")
    r, left = right_branching(w), left_branching(w)
    s = metrics.bracket_scores([r], [left])       # right: (1,5),(2,5),(3,5); left: (0,2),(0,3),(0,4)
    assert (s.matched, s.predicted, s.gold) == (0, 3, 3) and s.f1 == 0.0
    mixed = ("X", ("X", ("X", "a"), ("X", "b")), ("X", ("X", "c"), ("X", ("X", "d"), ("X", "e"))))
    s = metrics.bracket_scores([r, r], [mixed, r])  # mixed: (0,2),(2,5),(3,5) → 2 of 3 match
    assert (s.matched, s.predicted, s.gold) == (5, 6, 6)
    assert np.isclose(s.precision, 5 / 6) and np.isclose(s.recall, 5 / 6) and np.isclose(s.f1, 5 / 6)
    # micro-average: F1 is the harmonic mean of the summed precision and recall
    trees = list(all_trees(w))
    for a, b in itertools.product(trees[:5], trees[-5:]):
        s = metrics.bracket_scores([a], [b])
        assert s.f1 == pytest.approx(2 * s.matched / (s.predicted + s.gold))
    assert metrics.bracket_scores(r, r).f1 == 1.0


def test_bracket_scores_bad_input():
    w = list("abc")
    with pytest.raises(ValueError, match="differ"):
        metrics.bracket_scores([right_branching(w)], [right_branching(list("abd"))])
    with pytest.raises(ValueError, match="predicted_trees has 2"):
        metrics.bracket_scores([right_branching(w)], [right_branching(w)] * 2)
    with pytest.raises(ValueError, match="empty"):
        metrics.bracket_scores([], [])
