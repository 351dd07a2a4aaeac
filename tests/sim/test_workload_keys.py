"""Key weights over a large key space are computed in bounded memory (issue 9)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from simkafka.model.partitioner import partitions_for_keys
from simkafka.scenario import ProducerSpec
from simkafka.sim import workload
from simkafka.sim.workload import key_bytes, key_weights


def _producer(count: int, distribution: str = "uniform") -> ProducerSpec:
    return ProducerSpec.model_validate(
        {"topic": "t", "rate": "10 msg/s", "message_size": "100B",
         "keys": {"distribution": distribution, "count": count}}
    )


@pytest.mark.parametrize("distribution", ["uniform", "zipf"])
def test_chunked_weights_equal_the_whole_key_space_at_once(
    distribution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _producer(2500, distribution)
    partitions = partitions_for_keys(key_bytes(2500), 7)
    expected = np.bincount(partitions, weights=workload.key_probabilities(spec), minlength=7)
    monkeypatch.setattr(workload, "KEY_CHUNK", 1000)
    assert key_weights(spec, 7) == pytest.approx(expected, abs=1e-12)


def test_millions_of_keys_take_bounded_memory() -> None:
    # before: every key string at once, ~100 bytes a key (MemoryError at 10 million keys
    # under a 3 GiB address-space limit, found by the fuzzer)
    tracemalloc.start()
    try:
        weights = key_weights(_producer(1_000_000), 12)  # the loader's limit
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert weights.sum() == pytest.approx(1.0)
    assert peak < 64 * 1024**2
