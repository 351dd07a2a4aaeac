"""``SkimpyOffsetMap``: the log cleaner's key -> last-offset map, sized in bytes.

Kafka's cleaner dedupes a dirty section with a fixed block of memory
(``log.cleaner.dedupe.buffer.size`` divided among ``log.cleaner.threads``). Each entry
is the key's MD5 digest (16 bytes) plus an 8-byte offset, so the map holds
``memory // 24`` *slots*; the cleaner stops adding keys once ``size`` reaches
``slots * log.cleaner.io.buffer.load.factor`` and cleans only up to where it got.

We keep Kafka's accounting -- slots, entries, the MD5 digest as the identity of a key,
``latestOffset`` -- but store the entries in a ``dict`` keyed by the digest instead of an
open-addressed byte buffer. Behaviour is the same: two keys are "the same key" exactly
when their digests are equal (as in Kafka, an MD5 collision would merge them), a
``put`` of an existing key overwrites without growing ``size``, and a ``put`` when
``size >= slots`` fails. Only the probing (which slot an entry lands in) is not
modelled, and it is invisible to the cleaner.
"""

from __future__ import annotations

import hashlib

__all__ = ["SkimpyOffsetMap"]


class SkimpyOffsetMap:
    """Kafka's ``SkimpyOffsetMap(memory, hashAlgorithm="MD5")``.

    ``memory`` bytes give ``memory // (digest_size + 8)`` slots. ``latest_offset`` is
    the last offset put (or forced by :meth:`update_latest_offset`), ``-1`` when clear.
    """

    def __init__(self, memory: int, hash_algorithm: str = "MD5") -> None:
        if memory < 0:
            raise ValueError(f"offset map memory must be >= 0, got {memory}")
        self.hash_algorithm = hash_algorithm
        self.hash_size = hashlib.new(hash_algorithm.lower().replace("-", "")).digest_size
        #: bytes of buffer one entry takes (hash + 8-byte offset), ``bytesPerEntry``.
        self.bytes_per_entry = self.hash_size + 8
        self._slots = memory // self.bytes_per_entry
        self._entries: dict[bytes, int] = {}
        self._latest_offset = -1
        self._algo = hash_algorithm.lower().replace("-", "")

    # -- Kafka's OffsetMap interface ------------------------------------------------
    @property
    def slots(self) -> int:
        """The maximum number of entries (``slots()``)."""
        return self._slots

    @property
    def size(self) -> int:
        """Entries put so far (``size()``); overwrites of a key do not count."""
        return len(self._entries)

    @property
    def latest_offset(self) -> int:
        """``latestOffset()``: the last offset put or forced; ``-1`` after :meth:`clear`."""
        return self._latest_offset

    @property
    def utilization(self) -> float:
        """``utilization()``: ``size / slots`` (reported as the cleaner's buffer utilisation)."""
        return self.size / self._slots if self._slots else 0.0

    def _digest(self, key: bytes | bytearray | memoryview) -> bytes:
        return hashlib.new(self._algo, key).digest()

    def put(self, key: bytes | bytearray | memoryview, offset: int) -> None:
        """``put``: map ``key`` to ``offset``; fails when the map is already full.

        Kafka checks ``entries >= slots`` *before* looking the key up, so even an
        overwrite is refused on a full map (the cleaner never gets there: it stops at
        the load factor).
        """
        if len(self._entries) >= self._slots:
            raise ValueError(
                "Attempted to add a new entry to a full offset map, "
                f"entries: {len(self._entries)}, slots: {self._slots}"
            )
        self._entries[self._digest(key)] = offset
        self._latest_offset = offset

    def get(self, key: bytes | bytearray | memoryview) -> int:
        """``get``: the offset stored for ``key``, or ``-1`` when absent."""
        return self._entries.get(self._digest(key), -1)

    def update_latest_offset(self, offset: int) -> None:
        """``updateLatestOffset``: move ``latest_offset`` without adding a key."""
        self._latest_offset = offset

    def clear(self) -> None:
        """``clear``: forget every entry and reset ``latest_offset`` to -1."""
        self._entries.clear()
        self._latest_offset = -1

    def __repr__(self) -> str:
        return (
            f"SkimpyOffsetMap(slots={self._slots}, size={self.size}, "
            f"latest_offset={self._latest_offset}, hash={self.hash_algorithm})"
        )
