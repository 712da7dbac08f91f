"""Test-wide settings.

Hypothesis runs derandomized (the same examples on every machine, like every other emlab test) and
without a per-example deadline, which only measures how busy a shared 2-core CI machine is.
"""

from hypothesis import settings

settings.register_profile("emlab", derandomize=True, deadline=None, database=None)
settings.load_profile("emlab")
