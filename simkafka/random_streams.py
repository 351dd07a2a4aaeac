"""Named random streams: one scenario seed, an independent generator per component.

``streams.get("broker.3.disk")`` always yields the same draws for the same seed and
name, however many other streams exist or in what order they were created -- so adding a
producer never changes what a broker's disk does. Names are hashed with BLAKE2b (stable
across processes and Python versions, unlike ``hash()``).
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["RandomStreams", "derive_seed"]


def derive_seed(seed: int, name: str) -> int:
    """A 64-bit seed for stream ``name`` under scenario ``seed``."""
    digest = hashlib.blake2b(f"{seed}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class RandomStreams:
    """A factory of named, independent ``numpy.random.Generator`` streams."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The generator for ``name`` (created on first use, then shared)."""
        stream = self._streams.get(name)
        if stream is None:
            stream = np.random.Generator(np.random.PCG64(derive_seed(self.seed, name)))
            self._streams[name] = stream
        return stream

    def seed_for(self, name: str) -> int:
        """A derived integer seed, for algorithms with their own generator (java.util.Random)."""
        return derive_seed(self.seed, name)

    def __repr__(self) -> str:
        return f"RandomStreams(seed={self.seed}, streams={len(self._streams)})"
