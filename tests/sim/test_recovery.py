"""Log recovery after a crash: which bytes are re-validated, and how long a broker takes."""

from __future__ import annotations

import math

import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.recovery import recovery_seconds, unflushed_bytes

SEGMENT = 1024.0**3  # segment.bytes default, 1 GiB
GB_S = 1e9


def test_a_log_of_two_and_a_half_segments_re_validates_its_half_full_active_segment():
    assert unflushed_bytes(2.5 * SEGMENT, SEGMENT) == 0.5 * SEGMENT


def test_a_log_smaller_than_a_segment_is_re_validated_whole_and_an_empty_one_not_at_all():
    assert unflushed_bytes(3e6, SEGMENT) == 3e6
    assert unflushed_bytes(0, SEGMENT) == 0.0


def test_a_log_ending_on_a_segment_boundary_still_has_a_full_active_segment():
    # Kafka rolls on the append that would overflow the segment, not when it fills
    assert unflushed_bytes(2 * SEGMENT, SEGMENT) == SEGMENT


def test_a_recovery_point_inside_the_active_segment_does_not_shorten_recovery():
    # LogLoader.recoverLog starts at the segment *containing* the recovery point, and
    # LogSegment.recover re-reads it from position 0: flush.messages does not help
    assert unflushed_bytes(2.5 * SEGMENT, SEGMENT, flushed_to=2.4 * SEGMENT) == 0.5 * SEGMENT
    assert unflushed_bytes(2.5 * SEGMENT, SEGMENT, flushed_to=2.5 * SEGMENT) == 0.5 * SEGMENT


def test_a_checkpoint_older_than_the_last_roll_re_validates_the_segments_since():
    # crash before log.flush.offset.checkpoint.interval.ms wrote the roll's recovery point
    assert unflushed_bytes(2.5 * SEGMENT, SEGMENT, flushed_to=1.75 * SEGMENT) == 1.5 * SEGMENT
    assert unflushed_bytes(2.5 * SEGMENT, SEGMENT, flushed_to=0) == 2.5 * SEGMENT


def test_cpu_bound_recovery_of_one_log_is_its_bytes_times_the_cost():
    # 1 ns/B is 1 GB/s, below the disk's 4 GB/s
    assert recovery_seconds([[2e9]], 1e-9, [4 * GB_S], recovery_threads=1) == pytest.approx(2.0)


def test_disk_bound_recovery_of_one_log_is_its_bytes_over_the_read_bandwidth():
    # 0.1 ns/B would be 10 GB/s; the disk reads 0.5 GB/s
    assert recovery_seconds([[2e9]], 1e-10, [0.5 * GB_S], recovery_threads=1) == pytest.approx(4.0)


def test_threads_split_the_logs_of_a_dir_in_submission_order():
    logs = [[3e9, 1e9, 1e9, 1e9]]
    one = recovery_seconds(logs, 1e-9, [100 * GB_S], recovery_threads=1)
    two = recovery_seconds(logs, 1e-9, [100 * GB_S], recovery_threads=2)
    four = recovery_seconds(logs, 1e-9, [100 * GB_S], recovery_threads=4)
    assert one == pytest.approx(6.0)
    # thread A takes the 3 GB log; thread B the three 1 GB logs one after another
    assert two == pytest.approx(3.0)
    assert four == pytest.approx(3.0)  # the largest log is one thread's job


def test_a_fixed_pool_takes_logs_in_order_not_largest_first():
    # Executors.newFixedThreadPool: [1, 1, 2] on two threads ends at 1 + 2, not 2
    assert recovery_seconds([[1e9, 1e9, 2e9]], 1e-9, [100 * GB_S], 2) == pytest.approx(3.0)
    assert recovery_seconds([[2e9, 1e9, 1e9]], 1e-9, [100 * GB_S], 2) == pytest.approx(2.0)


def test_threads_of_one_dir_share_its_disk():
    # two threads of 1 GB/s each on a 1 GB/s disk: the disk, not the CPUs, sets the pace
    assert recovery_seconds([[1e9, 1e9]], 1e-9, [1 * GB_S], 2) == pytest.approx(2.0)
    # a 1.5 GB/s disk: both threads at 0.75 GB/s until the 1 GB log ends (1.33 s), then
    # the other alone at its CPU's 1 GB/s for the 1 GB it has left
    first = 1e9 / 0.75e9
    assert recovery_seconds([[1e9, 2e9]], 1e-9, [1.5 * GB_S], 2) == pytest.approx(
        first + (2e9 - 0.75e9 * first) / 1e9
    )


def test_dirs_recover_side_by_side_and_the_slowest_decides():
    assert recovery_seconds([[1e9], [3e9], []], 1e-9, [GB_S * 10] * 3, 1) == pytest.approx(3.0)


def test_clean_shutdown_recovers_nothing():
    assert recovery_seconds([[1e9, 2e9]], 1e-9, [GB_S], 1, clean_shutdown=True) == 0.0


def test_no_bytes_to_recover_take_no_time():
    assert recovery_seconds([[0.0, 0.0], []], 1e-9, [GB_S, GB_S], 2) == 0.0
    assert recovery_seconds([], 1e-9, [], 1) == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: unflushed_bytes(-1, SEGMENT), "log_bytes must be >= 0"),
        (lambda: unflushed_bytes(1e9, 0), "segment_bytes must be > 0"),
        (lambda: unflushed_bytes(math.nan, SEGMENT), "log_bytes must be a finite number"),
        (lambda: unflushed_bytes(1e9, SEGMENT, flushed_to=2e9), "past the log's end"),
        (lambda: recovery_seconds([[1e9]], -1e-9, [GB_S], 1), "recovery_byte_cpu must be >= 0"),
        (lambda: recovery_seconds([[1e9]], 1e-9, [GB_S], 0), "num.recovery.threads.per.data.dir"),
        (lambda: recovery_seconds([[1e9]], 1e-9, [GB_S], 1.5), "must be an integer"),
        (
            lambda: recovery_seconds([[1e9]], 1e-9, [0.0], 1),
            r"disk_read_bandwidth\[0\] must be > 0",
        ),
        (lambda: recovery_seconds([[1e9], [1e9]], 1e-9, [GB_S], 1), "2 log dirs but 1 disk read"),
        (
            lambda: recovery_seconds([[1e9, -5]], 1e-9, [GB_S], 1),
            r"unflushed_by_dir\[0\]\[1\] must be >= 0",
        ),
    ],
)
def test_bad_inputs_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_recovery_threads_take_kafkas_name_and_default():
    text = (
        "name: t\ncluster: {brokers: 1, config: {num.recovery.threads.per.data.dir: 4}}\n"
        "topics: [{name: a}]\nproducers: [{topic: a, rate: 10 msg/s, message_size: 1KiB}]\n"
    )
    assert parse_scenario(text, "s.yaml").cluster.config.num_recovery_threads_per_data_dir == 4
    default = parse_scenario(
        text.replace(", config: {num.recovery.threads.per.data.dir: 4}", ""), "s.yaml"
    )
    assert default.cluster.config.num_recovery_threads_per_data_dir == 2  # Kafka 4.x (KIP-1030)


def test_numpy_arrays_and_integers_count_as_numbers():
    import numpy as np

    logs = np.array([3e9, 1e9, 1e9, 1e9])
    assert recovery_seconds([logs], 1e-9, np.array([100 * GB_S]), np.int64(2)) == pytest.approx(3.0)
    assert unflushed_bytes(np.int64(5 * 2**29), np.int64(2**30)) == 2**29
