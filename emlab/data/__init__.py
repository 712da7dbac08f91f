"""Example data shipped with the course (nothing is downloaded).

- :mod:`emlab.data.icecream`: the Jurafsky & Martin and Eisner ice-cream HMMs and data.
- :mod:`emlab.data.arrays`: the J&M ice-cream HMM and the Manning & Schütze PCFG as plain arrays.
- :mod:`emlab.data.coins`: Do & Batzoglou's two coins (five sets of ten tosses).
- :mod:`emlab.data.grammars`: the Manning & Schütze toy PCFG and small known grammars.
- :mod:`emlab.data.texts`: a public-domain English text for the vowel/consonant experiment.

Provenance and licences are in ``emlab/data/README.md``.
"""

from .arrays import *  # noqa: F403
from .coins import *  # noqa: F403
from .grammars import *  # noqa: F403
from .icecream import *  # noqa: F403
from .texts import *  # noqa: F403
