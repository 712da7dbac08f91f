"""What the notebooks draw (matplotlib only; the algorithms live elsewhere).

- :mod:`emlab.plots.curves`: log-likelihood curves, the EM lower bound, restart histograms,
  k-means vs hard EM.
- :mod:`emlab.plots.trellis`: HMM trellises and posterior heat maps.
- :mod:`emlab.plots.trees`: parse trees.
"""
