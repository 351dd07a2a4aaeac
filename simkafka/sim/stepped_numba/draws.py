"""numpy's PCG64 inside the stepped engine's kernels, and ``split_fraction``'s rounding.

A kernel that rounds at random draws from the engine's own generator: its state goes in as
four words -- the generator's own memory where numpy lays it out as expected, else a copy
put back afterwards -- and the draws are the ones ``Generator.random`` would have made, in
the same order (passing the Generator itself costs tens of microseconds a call).
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import njit

from simkafka.sim.fluid import EPSILON

_MULT_HI = np.uint64(0x2360ED051FC65DA4)  # PCG_DEFAULT_MULTIPLIER_128
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_MASK32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)
_U58 = np.uint64(58)
_U64 = np.uint64(64)
_U63 = np.uint64(63)
_U11 = np.uint64(11)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_WORD = (1 << 64) - 1


def rng_words(rng: np.random.Generator) -> np.ndarray:
    """A copy of the PCG64 state of ``rng`` as (state low, state high, increment low,
    high); :func:`set_rng_words` puts it back."""
    state = rng.bit_generator.state["state"]
    s, inc = state["state"], state["inc"]
    return np.array([s & _WORD, s >> 64, inc & _WORD, inc >> 64], dtype=np.uint64)


def set_rng_words(rng: np.random.Generator, words: np.ndarray) -> None:
    """Put the state a kernel advanced (see :func:`rng_words`) back into ``rng``."""
    full = rng.bit_generator.state
    lo, hi, inc_lo, inc_hi = (int(w) for w in words)
    full["state"] = {"state": (hi << 64) | lo, "inc": (inc_hi << 64) | inc_lo}
    rng.bit_generator.state = full


def rng_state_view(rng: np.random.Generator) -> np.ndarray | None:
    """The PCG64 state of ``rng`` itself, as four words a kernel advances in place (no
    copy in and out), or None when its memory is not laid out as :func:`rng_words`
    orders it (numpy built without 128-bit integers): then the state is copied."""
    bit_generator = rng.bit_generator
    if not isinstance(bit_generator, np.random.PCG64):
        return None
    # pcg64_state {pcg64_random_t *pcg_state; ...}; pcg64_random_t {state; inc}
    pointer = ctypes.c_void_p.from_address(bit_generator.ctypes.state_address).value
    if not pointer:
        return None
    view = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_uint64)), (4,))
    if not np.array_equal(view, rng_words(rng)):
        return None
    return view


@njit(cache=True, error_model="numpy")
def _mulhi64(a, b):  # noqa: ANN001, ANN202
    a_lo, a_hi = a & _MASK32, a >> _U32
    b_lo, b_hi = b & _MASK32, b >> _U32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> _U32) + (p1 & _MASK32) + (p2 & _MASK32)
    return p3 + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32)


@njit(cache=True, error_model="numpy")
def next_double(words: np.ndarray) -> float:
    """``Generator.random()`` of numpy's PCG64 (XSL-RR output), advancing ``words``."""
    sl, sh, il, ih = words[0], words[1], words[2], words[3]
    lo = sl * _MULT_LO
    hi = _mulhi64(sl, _MULT_LO) + sh * _MULT_LO + sl * _MULT_HI
    new_lo = lo + il
    carry = _ONE if new_lo < lo else _ZERO
    new_hi = hi + ih + carry
    words[0], words[1] = new_lo, new_hi
    x = new_hi ^ new_lo
    rot = new_hi >> _U58
    out = (x >> rot) | (x << ((_U64 - rot) & _U63))
    return np.float64(out >> _U11) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy")
def round_by_draw(want: float, words: np.ndarray) -> tuple[float, bool]:
    """``want`` rounded down, plus one with its fractional part's probability (a draw only
    when that part exceeds ``EPSILON``, as ``split_fraction`` draws); and whether it drew."""
    whole = np.floor(want)
    rest = want - whole
    if rest > EPSILON:
        if next_double(words) < rest:
            whole += 1.0
        return whole, True
    return whole, False


@njit(cache=True, error_model="numpy")
def draw_many(words: np.ndarray, n: int) -> np.ndarray:
    """``Generator.random(n)`` (for the tests)."""
    out = np.empty(n)
    for k in range(n):
        out[k] = next_double(words)
    return out


@njit(cache=True, error_model="numpy")
def split_fraction_into(words, backlog, fraction, out):  # noqa: ANN001, ANN202
    # fluid.split_fraction (not clamped, no groups) into ``out``: whether it drew
    size = backlog.size
    if size == 0:
        return False
    lowest = np.inf
    for k in range(size):
        lowest = min(lowest, fraction[k])
    if lowest >= 1.0:
        out[:] = backlog
        return False
    drew = False
    for k in range(size):
        whole, drawn = round_by_draw(backlog[k] * min(max(fraction[k], 0.0), 1.0), words)
        drew = drew or drawn
        out[k] = min(np.int64(whole), backlog[k])
    return drew
