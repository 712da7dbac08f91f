"""Do & Batzoglou's two coins (Nature Biotechnology 26, 2008, figure 1), the smallest EM example.

Five sets of ten tosses; each set was made with coin A or coin B, and which one is hidden. Starting
from θ_A = 0.6, θ_B = 0.5 the paper reports θ_A ≈ 0.71, θ_B ≈ 0.58 after one EM iteration and
θ_A ≈ 0.80, θ_B ≈ 0.52 after ten (:data:`COINS_REPORTED`). Used by lecture 02 and exercises 02, 05, 07.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COINS_HEADS", "COINS_FLIPS", "COINS_START", "COINS_REPORTED"]

#: heads in each of the five sets
COINS_HEADS = np.array([5, 9, 8, 4, 7])
#: tosses in each set
COINS_FLIPS = np.array([10, 10, 10, 10, 10])
#: the paper's starting point (θ_A, θ_B)
COINS_START = (0.6, 0.5)
#: {iteration: (θ_A, θ_B)} as printed in the paper's figure 1 (two decimals)
COINS_REPORTED = {1: (0.71, 0.58), 10: (0.80, 0.52)}

for _array in (COINS_HEADS, COINS_FLIPS):
    _array.flags.writeable = False
