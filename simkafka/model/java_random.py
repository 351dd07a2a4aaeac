"""A bit-exact ``java.util.Random``, so that Kafka's randomised algorithms replay exactly.

Kafka's replica placers (``StripedReplicaPlacer``, ``AdminUtils``) draw their random
starting offsets from a ``java.util.Random``. To reproduce a placement for a given seed --
and to port Kafka's own tests, which feed a ``MockRandom`` subclass into those placers --
the simulator needs the same generator, draw for draw:

* the 48-bit linear congruential generator of ``java.util.Random`` (multiplier
  ``0x5DEECE66D``, addend ``0xB``), with the seed scrambled by XOR with the multiplier;
* ``nextInt(bound)`` with its power-of-two fast path and its rejection loop, whose test
  relies on 32-bit signed overflow;
* ``nextLong``, ``nextDouble`` and ``nextBoolean`` built from ``next(bits)`` exactly as
  the JDK builds them, so a subclass that overrides :meth:`JavaRandom.next_bits` (as
  Kafka's ``MockRandom`` overrides ``next(int)``) changes every derived method too;
* :func:`collections_shuffle`, ``java.util.Collections.shuffle(list, random)``, which
  ``StripedReplicaPlacer.RackList.shuffle`` uses.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import TypeVar

_MULTIPLIER = 0x5DEECE66D
_ADDEND = 0xB
_MASK_48 = (1 << 48) - 1
# java.util.Random.DOUBLE_UNIT = 0x1.0p-53
_DOUBLE_UNIT = 1.0 / (1 << 53)

T = TypeVar("T")


def to_int32(value: int) -> int:
    """Wrap an arbitrary Python int to a Java ``int`` (two's complement, 32 bits)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def to_int64(value: int) -> int:
    """Wrap an arbitrary Python int to a Java ``long`` (two's complement, 64 bits)."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value & 0x8000000000000000 else value


class JavaRandom:
    """``java.util.Random`` with the JDK's exact algorithms (JDK 17 ``nextInt(int)``).

    Every public method is written on top of :meth:`next_bits`, the equivalent of the
    JDK's ``protected int next(int bits)``, so that subclasses such as a port of Kafka's
    ``MockRandom`` only need to override that one method.
    """

    __slots__ = ("_seed",)

    def __init__(self, seed: int) -> None:
        self._seed = 0
        self.set_seed(seed)

    def set_seed(self, seed: int) -> None:
        """``Random.setSeed``: only the low 48 bits of ``seed ^ 0x5DEECE66D`` are kept."""
        self._seed = (seed ^ _MULTIPLIER) & _MASK_48

    def next_bits(self, bits: int) -> int:
        """``Random.next(bits)``: advance the LCG and return its top ``bits`` as a Java int."""
        self._seed = (self._seed * _MULTIPLIER + _ADDEND) & _MASK_48
        return to_int32(self._seed >> (48 - bits))

    def next_int(self, bound: int | None = None) -> int:
        """``nextInt()`` or ``nextInt(bound)``, uniform in ``[0, bound)``.

        Power-of-two bounds take the high bits of a 31-bit draw (the low bits of an LCG
        are weak); other bounds reject the draws that fall in the incomplete last
        interval, detected -- as in the JDK -- by the sum ``u - r + (bound - 1)``
        overflowing a 32-bit int. Each rejection consumes another ``next(31)``.
        """
        if bound is None:
            return self.next_bits(32)
        if bound <= 0:
            # Java: IllegalArgumentException("bound must be positive")
            raise ValueError("bound must be positive")
        if bound > 0x7FFFFFFF:
            raise ValueError("bound must fit in a Java int")
        r = self.next_bits(31)
        m = bound - 1
        if bound & m == 0:  # a power of two
            return (bound * r) >> 31
        u = r
        r = u % bound
        while to_int32(u - r + m) < 0:
            u = self.next_bits(31)
            r = u % bound
        return r

    def next_long(self) -> int:
        """``nextLong()``: ``((long) next(32) << 32) + next(32)``, wrapped to 64 bits."""
        high = self.next_bits(32)
        low = self.next_bits(32)
        return to_int64((high << 32) + low)

    def next_double(self) -> float:
        """``nextDouble()``: 53 random bits (26 + 27) scaled into ``[0, 1)``."""
        high = self.next_bits(26)
        low = self.next_bits(27)
        return ((high << 27) + low) * _DOUBLE_UNIT

    def next_boolean(self) -> bool:
        """``nextBoolean()``: one bit."""
        return self.next_bits(1) != 0


def collections_shuffle(items: MutableSequence[T], rng: JavaRandom) -> None:
    """``Collections.shuffle(list, rnd)`` for a random-access list, in place.

    The JDK walks ``i`` from ``size`` down to 2 and swaps ``i - 1`` with
    ``rnd.nextInt(i)``; lists of size 0 or 1 consume no draws.
    """
    for i in range(len(items), 1, -1):
        j = rng.next_int(i)
        items[i - 1], items[j] = items[j], items[i - 1]
