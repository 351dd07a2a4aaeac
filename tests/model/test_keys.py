"""share_of_keys_kept: the share of keys that keep their partition when the count changes."""

import math

import numpy as np
import pytest

from simkafka.model.keys import key_bytes, share_of_keys_kept
from simkafka.model.partitioner import partitions_for_keys


@pytest.mark.parametrize("before, after", [(6, 7), (6, 8), (6, 12), (4, 6), (12, 6), (5, 5), (1, 3)])
def test_share_is_what_counting_hash_values_gives(before, after):
    period = math.lcm(before, after)
    same = sum(1 for h in range(3 * period) if h % before == h % after)
    assert share_of_keys_kept(before, after) == pytest.approx(same / (3 * period))


def test_share_is_what_murmur2_does_to_many_keys():
    keys = key_bytes(20_000)
    six = partitions_for_keys(keys, 6)
    for after in (7, 8, 9, 12):
        kept = float(np.mean(partitions_for_keys(keys, after) == six))
        assert abs(kept - share_of_keys_kept(6, after)) < 0.015


def test_refuses_zero_partitions():
    with pytest.raises(ValueError):
        share_of_keys_kept(0, 3)
