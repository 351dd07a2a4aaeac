import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkafka.units import (
    UnitError,
    format_bytes,
    parse_byte_rate,
    parse_bytes,
    parse_duration,
    parse_message_rate,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("64KiB", 65536), ("1GB", 10**9), ("1GiB", 2**30), ("4096", 4096), (4096, 4096), ("1.5MiB", 1572864),
     ("8b", 1), ("1 MB", 10**6), ("10 bytes", 10)],
)
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100MB/s", 1e8), ("10Gbps", 1.25e9), ("1Gbit/s", 1.25e8), ("1.5GiB/s", 1.5 * 2**30), (5e6, 5e6),
     ("800 Mbps", 1e8)],
)
def test_parse_byte_rate(text, expected):
    assert parse_byte_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("250ms", 0.25), ("7d", 604800.0), ("2h", 7200.0), ("10m", 600.0), ("30s", 30.0), ("20us", 2e-5), (3, 3.0),
     ("1w", 604800.0)],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == pytest.approx(expected)


def test_bare_number_unit_is_chosen_by_caller():
    # linger.ms: 5 means five milliseconds; warmup: 5 means five seconds
    assert parse_duration(5, bare_unit="ms") == pytest.approx(0.005)
    assert parse_duration("5", bare_unit="ms") == pytest.approx(0.005)
    assert parse_duration(5) == 5.0


def test_message_rate():
    assert parse_message_rate("10000 msg/s") == 10000
    assert parse_message_rate("2k msgs/s") == 2000
    with pytest.raises(UnitError):
        parse_message_rate("10MB/s")


@pytest.mark.parametrize("bad", ["10Gbsp", "fast", "", True, None, [1], "1.2.3MB"])
def test_bad_quantities_raise_unit_error(bad):
    with pytest.raises(UnitError):
        parse_bytes(bad)
    with pytest.raises(UnitError):
        parse_byte_rate(bad)
    with pytest.raises(UnitError):
        parse_duration(bad)


@given(st.integers(min_value=0, max_value=2**50))
def test_bytes_round_trip_through_binary_prefixes(n):
    assert parse_bytes(f"{n}B") == n
    assert parse_bytes(f"{n}KiB") == n * 1024


def test_format_bytes():
    assert format_bytes(2**30) == "1.0 GiB"
    assert format_bytes(math.inf) == "unlimited"
