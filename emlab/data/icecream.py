"""The ice-cream HMMs of Jurafsky & Martin and of Jason Eisner (notebook 03).

Hidden states are the weather (Hot, Cold); the observation of a day is how many ice creams were
eaten, 1, 2 or 3, coded as the symbols 0, 1, 2 (:data:`SYMBOL_NAMES` gives the names).

- :func:`jurafsky_martin`: the model of Jurafsky & Martin, *Speech and Language Processing* (3rd ed.),
  appendix A: states (H, C), start (.8, .2), trans H→(H, C) = (.6, .4), C→(H, C) = (.5, .5),
  emit H (.2, .4, .4), C (.5, .4, .1); no STOP. Their example sequence "3 1 3" is
  :data:`JM_SEQUENCE`, with ``P(3 1 3) = 0.028562`` and Viterbi path H C H of probability 0.0128.
- :func:`eisner_data` and :func:`eisner_initial`: Eisner's spreadsheet (J. Eisner, "An Interactive
  Spreadsheet for Teaching the Forward-Backward Algorithm", 2002): 33 days of ice-cream counts
  ``233232322313311121113121112332322`` and the spreadsheet's initial model, with STOP:
  states (C, H), start (.5, .5), C→C .8, C→H .1, C→STOP .1, H→H .8, H→C .1, H→STOP .1,
  emit C (.7, .2, .1), H (.1, .2, .7).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SYMBOL_NAMES", "JM_STATE_NAMES", "JM_SEQUENCE", "EISNER_STATE_NAMES", "EISNER_DAYS",
    "jurafsky_martin", "eisner_data", "eisner_initial", "encode_ice_creams",
]

#: Symbol names: symbol v means v + 1 ice creams.
SYMBOL_NAMES = ("1", "2", "3")
#: State order of :func:`jurafsky_martin`: Hot, Cold.
JM_STATE_NAMES = ("H", "C")
#: Jurafsky & Martin's example observation "3 1 3", coded.
JM_SEQUENCE = np.array([2, 0, 2])
#: State order of :func:`eisner_initial`: Cold, Hot (as in the spreadsheet).
EISNER_STATE_NAMES = ("C", "H")
#: Eisner's 33 days of ice-cream counts, as written in the spreadsheet.
EISNER_DAYS = "233232322313311121113121112332322"


def encode_ice_creams(days: str) -> np.ndarray:
    """``"313"`` → ``array([2, 0, 2])`` (symbol = ice creams − 1)."""
    if not isinstance(days, str):
        raise TypeError(f"days must be a string of the digits 1, 2, 3, got {type(days).__name__}")
    if not days or any(ch not in "123" for ch in days):
        raise ValueError(f"days must be a non-empty string of the digits 1, 2, 3, got {days!r}")
    return np.array([int(ch) - 1 for ch in days])


def jurafsky_martin():
    """The Jurafsky & Martin ice-cream HMM (states H, C; no STOP)."""
    from ..hmm import HMM

    return HMM(start=[0.8, 0.2], trans=[[0.6, 0.4], [0.5, 0.5]],
               emit=[[0.2, 0.4, 0.4], [0.5, 0.4, 0.1]])


def eisner_data() -> np.ndarray:
    """Eisner's 33-day sequence, coded 0..2 (one sequence)."""
    return encode_ice_creams(EISNER_DAYS)


def eisner_initial():
    """The initial model of Eisner's spreadsheet (states C, H; with STOP)."""
    from ..hmm import HMM

    return HMM(start=[0.5, 0.5], trans=[[0.8, 0.1], [0.1, 0.8]],
               emit=[[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]], stop=[0.1, 0.1])
