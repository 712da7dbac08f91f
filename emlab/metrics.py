"""Task accuracy of unsupervised structure, beside the likelihood (notebook 10).

EM names hidden states arbitrarily, so a tagging accuracy needs a mapping from learned states to
true labels first. Two standard ones (Johnson 2007, "Why doesn't EM find good HMM POS-taggers?";
Christodoulopoulos, Goldwater & Steedman 2010 compare them), both read off the confusion matrix
``C[i, j]`` = number of positions with true label ``i`` and learned state ``j``
(:func:`confusion_matrix`):

- **many-to-1**: every learned state is mapped to the true label it co-occurs with most,
  ``Σ_j max_i C[i, j] / N``. Several states may map to one label, so it can only grow with the
  number of states (one state per position would score 1).
- **1-to-1**: the one-to-one matching of states to labels with the largest total overlap,
  ``max_π Σ_j C[π(j), j] / N``, found by the Hungarian algorithm
  (``scipy.optimize.linear_sum_assignment``; :func:`align_states`). With more
  states than labels the unmatched states count as wrong.

Trees are scored by their **unlabeled brackets** (the PARSEVAL measures of Black et al. 1991, as used
for grammar induction by Klein & Manning 2002): a tree's brackets are the spans ``(i, j)`` (words
``i..j-1``) of its constituents, without the single words and without the whole sentence, which
every binary tree has. Over a corpus, precision = matched / predicted, recall = matched / gold and
F1 their harmonic mean (micro-averaged: the counts are summed over the sentences first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .trees import tree_spans, tree_yield
from .validation import (
    check_elements,
    check_label_pair,
    check_labels,
    check_positive_int,
    check_sequence,
    naming,
)

__all__ = ["confusion_matrix", "Alignment", "align_states", "many_to_one", "one_to_one", "brackets",
           "BracketScore", "bracket_scores"]


def confusion_matrix(true, learned, n_true: int | None = None, n_learned: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of positions whose true state is ``i`` and learned state is ``j``.
    ``true`` and ``learned`` are label arrays (or lists of per-sequence arrays, sequence by sequence
    of equal length) of equal length."""
    t, g = check_label_pair("true", true, "learned", learned)
    n_true = int(t.max()) + 1 if n_true is None else check_positive_int("n_true", n_true)
    n_learned = int(g.max()) + 1 if n_learned is None else check_positive_int("n_learned", n_learned)
    check_elements("n_true and n_learned", n_true * n_learned, "n_true × n_learned")
    for name, labels, n in (("true", t, n_true), ("learned", g, n_learned)):
        if labels.max() >= n:
            raise ValueError(f"{name} holds state {int(labels.max())}, "
                             f"outside n_{name}={n} states (0..{n - 1})")
    c = np.zeros((n_true, n_learned))
    np.add.at(c, (t, g), 1)
    return c


@dataclass(frozen=True)
class Alignment:
    """How learned states map to true ones.

    ``mapping[j]`` is the true state matched to learned state ``j`` (−1 if none: more learned
    states than true ones); ``accuracy`` the fraction of positions whose relabelled learned
    state equals the true one; ``confusion`` the matrix of :func:`confusion_matrix`.
    """

    mapping: np.ndarray
    accuracy: float
    confusion: np.ndarray

    def relabel(self, learned) -> np.ndarray:
        """The learned labels renamed to the true states they were matched with."""
        labels = check_labels("learned", learned)
        if labels.max() >= self.mapping.size:
            raise ValueError(f"learned holds state {int(labels.max())}, but the alignment has only "
                             f"{self.mapping.size} learned states (0..{self.mapping.size - 1})")
        return self.mapping[labels]


def align_states(true, learned, n_true: int | None = None, n_learned: int | None = None) -> Alignment:
    """Match learned states to true states one-to-one so that the most positions agree: the
    Hungarian algorithm on the confusion matrix (maximize the matched overlap). EM's states are
    only identified up to a permutation, so accuracy must be measured after this alignment."""
    c = confusion_matrix(true, learned, n_true, n_learned)
    rows, cols = linear_sum_assignment(c, maximize=True)
    mapping = np.full(c.shape[1], -1, dtype=np.intp)
    mapping[cols] = rows
    return Alignment(mapping=mapping, accuracy=float(c[rows, cols].sum() / c.sum()), confusion=c)


def many_to_one(true, learned, n_true: int | None = None, n_learned: int | None = None) -> float:
    """Many-to-1 accuracy: each learned state takes the true label it overlaps most.

    ``true`` and ``learned`` are label arrays (or lists of per-sequence arrays) of equal total length.

    >>> many_to_one([0, 0, 1, 1], [2, 2, 0, 1])
    1.0
    """
    c = confusion_matrix(true, learned, n_true, n_learned)
    return float(c.max(axis=0).sum() / c.sum())


def one_to_one(true, learned, n_true: int | None = None, n_learned: int | None = None) -> float:
    """1-to-1 accuracy: the best one-to-one matching of learned states to true labels (Hungarian).

    >>> one_to_one([0, 0, 1, 1], [2, 2, 0, 1])
    0.75
    """
    return align_states(true, learned, n_true, n_learned).accuracy


def brackets(tree) -> set[tuple[int, int]]:
    """The unlabeled brackets of a tree: spans ``(i, j)`` of its constituents covering 2 to n − 1
    of its n words (single words and the whole sentence are left out).

    >>> sorted(brackets(("S", ("NP", "astronomers"), ("VP", ("V", "saw"), ("NP", "stars")))))
    [(1, 3)]
    """
    labelled = tree_spans(tree)
    n = labelled[0][2]
    return {(i, j) for _, i, j in labelled if 1 < j - i < n}


@dataclass(frozen=True)
class BracketScore:
    """Unlabeled bracket scores over a corpus: ``matched``, ``predicted`` and ``gold`` bracket counts,
    and ``precision``, ``recall``, ``f1`` (each 1.0 when there is nothing to find or predict)."""

    matched: int
    predicted: int
    gold: int

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def bracket_scores(gold_trees, predicted_trees) -> BracketScore:
    """Micro-averaged unlabeled bracket precision, recall and F1 of ``predicted_trees`` against
    ``gold_trees`` (two equally long lists of trees over the same sentences; a single tree each is
    accepted too). Raises ``ValueError`` when the lists differ in length or a pair of trees does not
    cover the same words."""
    if isinstance(gold_trees, tuple):
        gold_trees = [gold_trees]
    if isinstance(predicted_trees, tuple):
        predicted_trees = [predicted_trees]
    check_sequence("gold_trees", gold_trees, "a list of trees")
    check_sequence("predicted_trees", predicted_trees, "a list of trees")
    gold_trees, predicted_trees = list(gold_trees), list(predicted_trees)
    if len(gold_trees) != len(predicted_trees):
        raise ValueError(f"gold_trees has {len(gold_trees)} trees but predicted_trees has "
                         f"{len(predicted_trees)}")
    if not gold_trees:
        raise ValueError("gold_trees is empty")
    matched = predicted = gold = 0
    for n, (g, p) in enumerate(zip(gold_trees, predicted_trees, strict=True)):
        with naming(f"gold_trees[{n}]"):
            gold_words = tree_yield(g)
        with naming(f"predicted_trees[{n}]"):
            predicted_words = tree_yield(p)
        if gold_words != predicted_words:
            raise ValueError(f"tree {n}: the predicted tree's words {predicted_words} differ from the "
                             f"gold tree's {gold_words}")
        gb, pb = brackets(g), brackets(p)
        matched += len(gb & pb)
        predicted += len(pb)
        gold += len(gb)
    return BracketScore(matched=matched, predicted=predicted, gold=gold)
