"""Student-facing checks for the exercises, their independent references, and the helpers the
instructor's hidden tests compare with.

- :mod:`emlab.checks.runner`: :class:`CheckResult`, :class:`Case`, :func:`run_cases` and the
  comparisons (a check prints ✔ or the failing case; it never raises or stops the notebook);
- :mod:`emlab.checks.references`: brute-force enumeration (all state paths, all trees), Bayes' rule
  for the two coins, random small models: plain numpy, independent of the code they check;
- :mod:`emlab.checks.exercises`: one check per exercise function (``check_forward`` ...);
- :mod:`emlab.checks.grading`: :func:`expect_close` and friends for hidden tests, whose failure
  messages never reveal a hidden reference (the grader shows only those to students).

While grading, the sandbox replaces this package by an inert stand-in (see ``tools/grading``): the
checks are not run there and none of these references can be called by a student's code.
"""

from .exercises import *  # noqa: F403
from .references import *  # noqa: F403
from .references import posteriors_of, sympy_value  # noqa: F401
from .runner import *  # noqa: F403
