"""BLAS thread control for the dynamic programs.

The batched recursions of :mod:`emlab.hmm` and :mod:`emlab.pcfg` are many small matrix products;
a multi-threaded BLAS only adds synchronization to them, which costs 15% on an idle 2-core machine
and 5-10x next to other jobs (measured: a 200-sentence PCFG E-step took ~2 s with two OpenBLAS
threads on a busy machine, ~0.3 s with one). scikit-learn limits threads the same way around its
small-matrix loops.
"""

from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def one_blas_thread(fn):
    """Decorator: run ``fn`` with BLAS limited to one thread."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        global _controller
        if _controller is None:
            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper
