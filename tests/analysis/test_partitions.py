"""throughput_knee: the partition count beyond which one more partition stops helping."""

import pytest

from simkafka.analysis.partitions import throughput_knee


def test_knee_is_the_first_count_within_tolerance_of_the_best():
    counts = [1, 2, 4, 6, 8]
    assert throughput_knee(counts, [6000, 12000, 19600, 19800, 19850]) == 4
    assert throughput_knee(counts, [2000, 4000, 7800, 11600, 11300]) == 6
    assert throughput_knee(counts, [2000, 4000, 7800, 11600, 11300], tolerance=0.5) == 4


def test_a_curve_still_rising_has_its_knee_at_the_end_and_a_flat_one_at_the_start():
    assert throughput_knee([1, 2, 3], [1.0, 2.0, 3.0]) == 3
    assert throughput_knee([1, 2, 3], [5.0, 5.0, 5.0]) == 1


@pytest.mark.parametrize("counts, values", [([], []), ([1, 2], [1.0]), ([2, 1], [1.0, 2.0])])
def test_refuses_bad_input(counts, values):
    with pytest.raises(ValueError):
        throughput_knee(counts, values)
