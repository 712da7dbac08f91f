"""emlab: Expectation Maximization for products of categorical distributions.

Every model in the course (mixture of categoricals, HMM, PCFG) is a product of
categorical distributions, so every M-step is :func:`emlab.categorical.normalize`
applied to expected counts, and one loop, :func:`emlab.em.fit`, drives them all.
"""

__version__ = "0.1.0"
