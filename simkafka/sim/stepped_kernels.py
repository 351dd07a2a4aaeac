"""Compiled kernels of the stepped engine: a stage's many small array operations fused
into one loop over its elements (numba ``@njit``).

A step of the reference scenario is some 600 numpy calls on arrays of a few hundred
elements; each call costs a microsecond or two of dispatch whatever its size, so the
engine's floor in pure numpy is the calls, not the arithmetic. A kernel here does the
same arithmetic as the numpy code it stands for (:mod:`simkafka.sim.stepped` and its stage
modules, such as :mod:`simkafka.sim.stepped_producers`), in the same order, so that a run
gives the same bits on either path:

* a ``np.bincount`` with weights adds its weights to zeros one by one in the order of
  its input: the loops here do the same;
* a sum over the rows of a table (``table.sum(axis=0)``) adds the rows one by one, as
  numpy does along a table's outer axis; sums along a contiguous axis (numpy sums those
  pairwise) stay in numpy;
* no ``fastmath``: LLVM may neither reorder nor contract (fused multiply-add) them;
* numpy's error model: a division by zero gives numpy's inf or nan, not an exception;
* random draws stay in numpy, with the same generator in the same order.

:func:`load` gives the kernels, or ``None`` when the engine should use its numpy code:
numba cannot be imported, or the environment sets ``SIMKAFKA_KERNELS=numpy``. Kernels
are compiled on first use and cached on disk (``cache=True``) next to this module.
"""

from __future__ import annotations

import os
from types import ModuleType

KERNELS_VARIABLE = "SIMKAFKA_KERNELS"


def load() -> ModuleType | None:
    """The compiled kernels (:mod:`simkafka.sim.stepped_numba`), or ``None`` for the pure
    numpy path: when ``SIMKAFKA_KERNELS`` is ``numpy`` or numba is not installed."""
    choice = os.environ.get(KERNELS_VARIABLE, "numba").strip().lower()
    if choice == "numpy":
        return None
    if choice != "numba":
        raise ValueError(f"{KERNELS_VARIABLE} must be 'numba' or 'numpy', not {choice!r}")
    try:
        from simkafka.sim import stepped_numba
    except ImportError:  # numba is missing (or cannot load here): the numpy code runs
        return None
    return stepped_numba
