"""Tests for simkafka.model.partitioner against Kafka's own test expectations.

Reference vectors marked "JDK oracle" were produced by compiling a line-for-line Java port
of ``org.apache.kafka.common.utils.Utils.murmur2`` with javac 17 (throw-away code in /tmp)
and running it on ``java.util.Random(20261125L).nextBytes`` strings of lengths 0..40
(two per length, so bytes >= 0x80 -- negative in Java -- are well covered). The same
program reproduced every entry of Kafka's ``UtilsTest.testMurmur2`` table first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.model.partitioner import (
    UNKNOWN_PARTITION,
    BatchShape,
    BuiltInPartitioner,
    PartitionQueue,
    RoundRobinPartitioner,
    TopicMetadata,
    choose_partition,
    load_stats_from_queues,
    murmur2,
    partition_for_key,
    partitions_for_keys,
    sticky_stint_records,
    to_positive,
)

# Kafka UtilsTest.testMurmur2 (the full table).
KAFKA_MURMUR2_CASES = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}

# JDK oracle: (hex bytes, Utils.murmur2 result).
JDK_MURMUR2_VECTORS = [
    ("", 275646681),
    ("f4", -904575368),
    ("9e", 752298118),
    ("293e", 1278147341),
    ("1323", -1349321485),
    ("4961a5", 887251637),
    ("37bf22", 1538482120),
    ("f0b676ef", 970785861),
    ("88f910a3", 1585979382),
    ("fb5d550058", 470141765),
    ("6e49db3fd8", 2040402918),
    ("5689ce626291", 223429756),
    ("22db5ad80dd7", -981173872),
    ("406efdf69a4f41", -1187655322),
    ("11cb72f12553b1", -1177648095),
    ("67cdbbea529fb216", -1874917973),
    ("22793dcdcd556227", 1766262405),
    ("b96649634a654400a9", -987086142),
    ("6fab962e196603d353", 1335526967),
    ("41fcedb66e307cab4f67", 252598160),
    ("355865e3de603d29b06c", -794979922),
    ("3f457af1d27e5d8a21ceb1", -311120544),
    ("5ce3e5625d2822a38a5f1d", 1060163106),
    ("eedd67eee41a9734608896dd", 1179905945),
    ("e108cd973b4d1e4845a11f5e", -1922763647),
    ("351574735f1c28292a10c4b98d", 1866690021),
    ("36bbbd5bb75019ba5a13cb8a9d", 1022136623),
    ("9b36dbe52b7289097a3ed52030cb", 1970039752),
    ("30ea28ea2e8573751e8c969c1bc3", -1245207508),
    ("48ed21f74aef4573d54a20d0d6c78d", 857594614),
    ("f08448be43cab29f7adb76023a942a", 103000966),
    ("687c80957dc58f20ca8094408c6f6dd6", -1142877177),
    ("ce10d2b49a39887237141143b9a321ec", -2062586842),
    ("1c64c3d467526ac3fbb3cf8ae393f22b54", 1990283712),
    ("f87202c36fbe90f31c37d131f98bf20d11", -379399615),
    ("9cae57da70fbef57c15cd971c7bcc24212ae", 186718292),
    ("28556b7e873dc36b660558e4f8ef226c4d7e", 1755428296),
    ("863ae8f695b4851964296e6d6b2a4080c4ee5e", 491223378),
    ("b86eabfdecba0a559632c76ecb596392958fe1", 1338741359),
    ("7d5f231cb17d4b549edc4868391635136a740086", -1320259525),
    ("eda83d90eb915a441ceb5b3ec82efe5790344c78", -132304299),
    ("7c756cfd83e4e4b6f85120a5f738c1e4f30e134f25", -1706935488),
    ("843b12d1dde79741b6939e9411f1fad32f58fb5bdd", 1154987408),
    ("27b451a7ce74a7e346567dae35881c8e18881b67c3fa", 1092540202),
    ("3ca9b2accc2251407e4e9f5dd91a274b753259557612", -74448208),
    ("64f4cb105e700a026123beb8759ff5052197f0572cc252", 1391864287),
    ("cd6cbd0e42549ee2cd755a2b0a09dd24754f78258e84ab", 1395250640),
    ("f0055c7651f86826dde18b2083c0ac407c1f64e5d2ece36d", -1935067306),
    ("609fc9f34eb8e261fd73c728f765396d895401eae153fc4d", -649318523),
    ("0ec54dd0276d4f62a1fc8c31f50227d20e8eb78e6f8f57b788", 1048910112),
    ("4e89854b141588265e4d0399c8a6876442cb90941f17ab752f", 1236323151),
    ("e6d46ce47b5e1a3791834c7b2d9bb576fb610ef0fbe2e0afdefa", 923960823),
    ("53e405af8422bdc96068222180041d1c3217e06075f5b1ff6963", -1950816141),
    ("2e3000b717078fe7936a0830b8f714814c96906b6c2d46d903fa8c", -1958014833),
    ("d999a587a46b247f5e4544681da17ebf824d63bc569c3624c07d11", 772315270),
    ("85f80c5c1c04639d0da27abe2e6554f67c1759f081dfc41773099bc1", -1877599259),
    ("75f4c68873d850b0075d1dbde65a560b325b8776e1522186bdac1797", -1417321341),
    ("6b5ab544b872965c559e769bf4b84f0fe2d250e237fb0f9ece328cf301", 119427777),
    ("7b604c281907c7a24a7a725440b23c8968ee0e37af38b3fc9c6723675a", -1521773314),
    ("d4db18a10cb64142822649f5cba5af4c13fce29b31f7667ff638374e9e27", -1016627111),
    ("1ae6b0346ad27c7dc495c7837bfff8423047f471f66aca8c5c9cd290e39e", 1625067205),
    ("e52c8649ede54998e9f111dfb9967759437ad65e5e091ae7a29baba60345ce", -270426910),
    ("43fc8091b72948355feaa377f21a417e82d1ba37690981916e0b4aea1fbfd1", 569394051),
    ("34190218cb8efd64a7529c101790bbfb581da5ad3f74ea10bd91de3c194b5c72", -262691001),
    ("2d6c554b9356d8ded6106e0a1ddb391ae4944e49a9c5b3825efc83221894e718", 10608091),
    ("967bdf90593b9be2185c50e07e5eedfe7778a0b0951ce32d75e7e4fb0897f71d4c", 409066159),
    ("cd28f6ce294b0893b7a6be971a84f0c295fbc265fab37fe7179781491f8e61fb85", -2140484210),
    ("dab2e5b4c826df03063269d4609905cf38ce02223a228db15562f6877806f2a89254", -1720258015),
    ("b704265129cd473450c1d15a4e447b72a6254163253a922783214bbaca5c6a890df6", -1529659247),
    ("a853da34e3435b95b1ac4f4c5712cfc33d4f05e9e4fbb5249031e183572c4a6c572967", -210353866),
    ("3bf7e837a85c41d68c11eee03d684c96c2f71a8a05919dc0a6519882439a68d99e476a", 1068587073),
    ("cfeeedf24849d86c3a03f2b0a2cb7bbddfff95920f95d59f292dc683f657fe7295198bbc", 2135253054),
    ("d330fced3c507af8f32afcefe8879ec42cc7b49ffcc5f50751b20eb4bdd5d6a238f5d3be", 471840067),
    ("c0fb638384fe26ba7dc6a4d29a86d32463982e5a6288dfdbe1d4757fc5ed94d636c9873a08", 1675288822),
    ("0f4bef2f797c9c8e38ea1733fe83b7eeea473a828d20a9f784fde0f599f34240a5457ad9ef", -477933549),
    ("0aa69d26a12701e799f50ccce9d624cd8199089132cef4505985cb7ca5bff51f9cbdd448e7be", -1856157010),
    ("02a172ecf241aab47b64ed0c34f0a462d6c6d76c4894777a645c190513df318a0cc0e73a092f", -1289846662),
    ("b2c6923be24cc436e152d3770997ea5d0cead0668b77db67f2818c3250cc48b1da73e081e52fb2", 192768745),
    ("cdec07721e61e5e6f5dc79d6597231ecc425db8b2f7d19ad9de5ccf2c865e1da05110af33f5187", 1970819783),
    (
        "af5cf338ace4b0c9e7a062cdcfbeccd917a66c667cf4496b8683e7532938520583b4267255cf2b68",
        -1191332098,
    ),
    (
        "9195bf71a21cd90d586ab036d6632912612e29761f15dddce9957c874b6f75384e994d8ed93410bb",
        -1087787963,
    ),
]

# JDK oracle: toPositive(murmur2(("key-" + i).getBytes())) % 12.
JDK_KEY_I_MOD_12 = {0: 1, 1: 0, 9: 9, 10: 2, 99: 10, 100: 10, 12345: 9, 999999: 8}
# JDK oracle: sum over i in [0, 1e6) of the above.
JDK_KEY_I_MOD_12_SUM_1E6 = 5509026


def _seq_random() -> Callable[[], int]:
    """Kafka's BuiltInPartitionerTest mocks the random source with 0, 1, 2, ..."""
    counter = iter(range(1 << 31))
    return lambda: next(counter)


# ---- murmur2 / keyed partitioning ---------------------------------------------------


@pytest.mark.parametrize(("key", "expected"), sorted(KAFKA_MURMUR2_CASES.items()))
def test_murmur2_matches_kafka_utils_test(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected


@pytest.mark.parametrize(("hex_key", "expected"), JDK_MURMUR2_VECTORS)
def test_murmur2_matches_jdk_oracle(hex_key: str, expected: int) -> None:
    assert murmur2(bytes.fromhex(hex_key)) == expected


def test_jdk_vectors_cover_high_bytes_and_every_tail_length() -> None:
    keys = [bytes.fromhex(h) for h, _ in JDK_MURMUR2_VECTORS]
    assert {len(k) % 4 for k in keys} == {0, 1, 2, 3}
    assert any(b >= 0x80 for k in keys for b in k)


def test_to_positive_clears_sign_bit_like_utils_to_positive() -> None:
    # UtilsTest.testAbs/toPositive: Integer.MIN_VALUE maps to 0, -1 to Integer.MAX_VALUE.
    assert to_positive(-(2**31)) == 0
    assert to_positive(-1) == 2**31 - 1
    assert to_positive(-973932308) == -973932308 & 0x7FFFFFFF


def test_partition_for_key_known_values() -> None:
    # JDK oracle: key "test" (DefaultPartitionerTest/KafkaProducerTest's key) -> 2 of 3,
    # "key" -> 1 of 3, "foobar" -> 0 of 3.
    assert partition_for_key(b"test", 3) == 2
    assert partition_for_key(b"key", 3) == 1
    assert partition_for_key(b"foobar", 3) == 0
    for i, expected in JDK_KEY_I_MOD_12.items():
        assert partition_for_key(f"key-{i}".encode(), 12) == expected


def test_partitions_for_keys_million_keys_matches_jdk_sum() -> None:
    keys = [f"key-{i}".encode() for i in range(1_000_000)]
    table = partitions_for_keys(keys, 12)
    assert table.shape == (1_000_000,)
    assert int(table.sum()) == JDK_KEY_I_MOD_12_SUM_1E6
    for i, expected in JDK_KEY_I_MOD_12.items():
        assert table[i] == expected


def test_partitions_for_keys_mixed_lengths_keeps_order() -> None:
    keys = [bytes.fromhex(h) for h, _ in JDK_MURMUR2_VECTORS] + list(KAFKA_MURMUR2_CASES)
    expected = [to_positive(murmur2(k)) % 7 for k in keys]
    assert partitions_for_keys(keys, 7).tolist() == expected
    assert partitions_for_keys([], 7).tolist() == []


def _java_int(x: int) -> int:
    """Wrap to a signed 32-bit Java int."""
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


def _murmur2_java_style(data: bytes) -> int:
    """Independent oracle: Utils.murmur2 transcribed on *signed* Java ints.

    Bytes are signed as in Java (``(byte) 0x80 == -128``) and masked with ``& 0xff``;
    ``>>>`` is emulated on the unsigned view; every arithmetic result is wrapped.
    """
    signed = [b - 256 if b >= 128 else b for b in data]
    m, r = _java_int(0x5BD1E995), 24
    length = len(signed)
    h = _java_int(_java_int(0x9747B28C) ^ length)

    def ushr(x: int, n: int) -> int:
        return (x & 0xFFFFFFFF) >> n

    for i in range(length // 4):
        i4 = i * 4
        k = (
            (signed[i4] & 0xFF)
            + ((signed[i4 + 1] & 0xFF) << 8)
            + ((signed[i4 + 2] & 0xFF) << 16)
            + ((signed[i4 + 3] & 0xFF) << 24)
        )
        k = _java_int(k)
        k = _java_int(k * m)
        k = _java_int(k ^ ushr(k, r))
        k = _java_int(k * m)
        h = _java_int(h * m)
        h = _java_int(h ^ k)
    tail = length & ~3
    if length % 4 == 3:
        h = _java_int(h ^ ((signed[tail + 2] & 0xFF) << 16))
    if length % 4 >= 2:
        h = _java_int(h ^ ((signed[tail + 1] & 0xFF) << 8))
    if length % 4 >= 1:
        h = _java_int(h ^ (signed[tail] & 0xFF))
        h = _java_int(h * m)
    h = _java_int(h ^ ushr(h, 13))
    h = _java_int(h * m)
    return _java_int(h ^ ushr(h, 15))


def test_java_style_oracle_agrees_with_jdk_vectors() -> None:
    # Guards the oracle itself, so the hypothesis test below cannot pass vacuously.
    for hex_key, expected in JDK_MURMUR2_VECTORS:
        assert _murmur2_java_style(bytes.fromhex(hex_key)) == expected
    for key, expected in KAFKA_MURMUR2_CASES.items():
        assert _murmur2_java_style(key) == expected


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_murmur2_equals_java_style_oracle(data: bytes) -> None:
    result = murmur2(data)
    assert result == _murmur2_java_style(data)
    assert -(2**31) <= result < 2**31


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=45), max_size=30), st.integers(1, 5000))
def test_vectorised_equals_scalar_and_in_range(keys: list[bytes], n: int) -> None:
    table = partitions_for_keys(keys, n)
    assert table.tolist() == [partition_for_key(k, n) for k in keys]
    assert all(0 <= p < n for p in table.tolist())


# ---- BuiltInPartitioner (KIP-794) ---------------------------------------------------


def test_sticky_switches_after_sticky_batch_size_records() -> None:
    # BuiltInPartitionerTest.testStickyPartitioning: stickyBatchSize=3, 1-byte records.
    meta = TopicMetadata.from_leaders([0, 1, 2])
    p = BuiltInPartitioner("A", 3, _seq_random())
    first = p.current_partition(meta)
    assert first == 0  # random 0 % 3 available
    assert p.update_partition_info(1, meta) is False
    assert p.current_partition(meta) == first
    assert p.update_partition_info(1, meta) is False
    assert p.update_partition_info(1, meta) is True
    assert p.current_partition(meta) == 1
    # "Check that switching works even when there is one partition."
    single = TopicMetadata.from_leaders([0])
    q = BuiltInPartitioner("B", 1, _seq_random())
    for _ in range(10):
        assert q.current_partition(single) == 0
        q.update_partition_info(1, single)


def test_unavailable_partitions_are_never_chosen() -> None:
    # BuiltInPartitionerTest.unavailablePartitionsTest.
    rng = np.random.default_rng(7)
    topic_a = TopicMetadata.from_leaders([0, None, 2])
    a = BuiltInPartitioner("A", 1, rng)
    seen = set()
    for _ in range(100):
        seen.add(a.current_partition(topic_a))
        a.update_partition_info(1, topic_a)
    assert seen == {0, 2}
    topic_b = TopicMetadata.from_leaders([None, 0])
    b = BuiltInPartitioner("B", 1, rng)
    for _ in range(100):
        assert b.current_partition(topic_b) == 1
        b.update_partition_info(1, topic_b)
    # No partition available at all: still pick one among all partitions.
    topic_c = TopicMetadata.from_leaders([None])
    c = BuiltInPartitioner("C", 1, rng)
    assert c.current_partition(topic_c) == 0
    c.update_partition_info(1, topic_c)
    assert c.current_partition(topic_c) == 0


def test_adaptive_frequencies_are_reciprocal_to_queue_sizes() -> None:
    # BuiltInPartitionerTest.adaptivePartitionsTest: queue sizes {5, 0, 3, 0, 1}, random
    # 0, 1, 2, ...; over 2 full cycles of the CFT range each partition is chosen exactly
    # 2 * (6 - queueSize) times.
    sizes = [5, 0, 3, 0, 1]
    meta = TopicMetadata.all_available(5)
    p = BuiltInPartitioner("A", 1, _seq_random())
    p.update_partition_load_stats(sizes, list(range(5)), 5)
    assert p.load_stats_range_end() == sum(6 - s for s in sizes)
    freq = [0] * 5
    for _ in range(2 * p.load_stats_range_end()):
        freq[p.current_partition(meta)] += 1
        p.update_partition_info(1, meta)
    assert freq == [2 * (6 - s) for s in sizes]


def test_cft_example_from_kafka_comment() -> None:
    # BuiltInPartitioner.updatePartitionLoadStats comment: sizes 0 3 1 -> CFT 4 5 8;
    # draws 0-3 -> partition[0], 4 -> partition[1], 5-7 -> partition[2].
    meta = TopicMetadata.all_available(3)
    p = BuiltInPartitioner("A", 1, _seq_random())
    p.update_partition_load_stats([0, 3, 1], [10, 11, 12], 3)
    picks = [p.next_partition(meta) for _ in range(8)]
    assert picks == [10, 10, 10, 10, 11, 12, 12, 12]


def test_load_stats_skipped_cases() -> None:
    p = BuiltInPartitioner("A", 1, _seq_random())
    p.update_partition_load_stats([2, 2, 2], [0, 1, 2], 3)
    assert not p.adaptive_active  # all equal, nothing excluded
    p.update_partition_load_stats([2, 2, 2], [0, 1, 2], 2)
    assert p.adaptive_active  # all equal but one excluded: still adaptive
    p.update_partition_load_stats([4], [0], 1)
    assert not p.adaptive_active  # fewer than 2 partitions
    p.update_partition_load_stats([1, 2], [0, 1], 0)
    assert not p.adaptive_active  # everything excluded
    p.update_partition_load_stats(None, None)
    assert not p.adaptive_active
    with pytest.raises(ValueError):
        BuiltInPartitioner("A", 0, _seq_random())  # testStickyBatchSizeMoreThatZero


def test_load_stats_from_queues_like_partition_ready() -> None:
    queues = [
        PartitionQueue(0, True, 2, leader_wait_ms=0),
        PartitionQueue(1, False, 4),
        PartitionQueue(2, True, 7, leader_wait_ms=900),  # slow leader
        PartitionQueue(3, True, 1, leader_wait_ms=0),
    ]
    assert load_stats_from_queues(queues, 5) is None  # not every partition has a deque yet
    assert load_stats_from_queues(queues, 4, adaptive=False) is None
    sizes, ids, length = load_stats_from_queues(queues, 4, partition_availability_timeout_ms=500)
    assert (sizes[:length], ids[:length]) == ([2, 1], [0, 3])
    sizes, ids, length = load_stats_from_queues(queues, 4)  # timeout 0 = disabled
    assert (sizes[:length], ids[:length]) == ([2, 7, 1], [0, 2, 3])
    # An empty deque right after an excluded partition inherits its stale size.
    quirk = [PartitionQueue(0, True, 7, leader_wait_ms=900), PartitionQueue(1, True, 0)]
    sizes, ids, length = load_stats_from_queues(quirk, 2, partition_availability_timeout_ms=500)
    assert (sizes[:length], ids[:length]) == ([7], [1])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 20), st.integers(0, 2000)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 2**31 - 1),
)
def test_adaptive_never_picks_excluded_partition(rows: list, seed: int) -> None:
    queues = [PartitionQueue(i, lead, size, wait) for i, (lead, size, wait) in enumerate(rows)]
    stats = load_stats_from_queues(queues, len(queues), partition_availability_timeout_ms=1000)
    assert stats is not None
    p = BuiltInPartitioner("T", 1, np.random.default_rng(seed))
    p.update_partition_load_stats(*stats)
    meta = TopicMetadata.from_leaders([0 if lead else None for lead, _, _ in rows])
    excluded = {
        q.partition for q in queues if q.has_leader and q.queue_size and q.leader_wait_ms > 1000
    }
    for _ in range(30):
        chosen = p.next_partition(meta)
        assert 0 <= chosen < len(rows)
        if p.adaptive_active:
            assert chosen not in excluded
            assert rows[chosen][0]  # has a leader
        elif meta.available_partitions:
            assert chosen in meta.available_partitions


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5000),
    st.lists(st.integers(1, 3000), min_size=1, max_size=60),
    st.integers(0, 2**32 - 1),
)
def test_switch_exactly_when_threshold_crossed(batch: int, appends: list[int], seed: int) -> None:
    meta = TopicMetadata.all_available(6)
    p = BuiltInPartitioner("T", batch, np.random.default_rng(seed))
    p.current_partition(meta)
    produced = 0
    for size in appends:
        budget = p.bytes_until_switch()
        switched = p.update_partition_info(size, meta)
        produced += size
        assert switched == (produced >= batch) == (size >= budget)
        if switched:
            produced = 0
        assert p.produced_bytes == produced


def _kafka_append(part, meta, size, shape, deques) -> int:
    """One ``RecordAccumulator.append`` of an unkeyed record, record by record, as Kafka
    does it: the reference for place_batched_records. ``deques[p]`` lists the record
    counts of p's batches; a batch that refused a record is closed (``-n``)."""

    def all_full(dq):
        if not dq:
            return True
        last = dq[-1]
        return last < 0 or (last >= shape.records_per_batch and shape.full_when_filled)

    while True:
        p = part.current_partition(meta)
        dq = deques.setdefault(p, [])
        # partitionChanged: complete a switch that incomplete batches had disabled
        if all_full(dq) and part.update_partition_info(0, meta, enable_switch=True):
            continue
        break
    if dq and 0 < dq[-1] < shape.records_per_batch:
        dq[-1] += 1  # tryAppend: it fits
        appended = size
    else:
        if dq and dq[-1] > 0:
            dq[-1] = -dq[-1]  # closeForRecordAppends
        dq.append(1)  # appendNewBatch: appendedBytes is the new batch's estimated size
        appended = shape.header_bytes + size
    part.update_partition_info(appended, meta, enable_switch=all_full(dq))
    return p


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3000),
    st.integers(1, 20),
    st.booleans(),
    st.lists(
        st.tuples(st.integers(1, 700), st.integers(0, 60), st.lists(st.integers(0, 5))),
        max_size=12,
    ),
    st.integers(0, 2**32 - 1),
)
def test_place_batched_records_equals_kafkas_per_record_appends(
    batch: int, per_batch: int, exact: bool, calls: list, seed: int
) -> None:
    meta = TopicMetadata.all_available(6)
    shape = BatchShape(per_batch, 61, full_when_filled=exact)
    bulk = BuiltInPartitioner("T", batch, np.random.default_rng(seed))
    single = BuiltInPartitioner("T", batch, np.random.default_rng(seed))
    deques: dict[int, list[int]] = {}

    def last_batch(p: int) -> int | None:
        dq = deques.get(p)
        return abs(dq[-1]) if dq else None

    for size, count, drained in calls:
        placed = bulk.place_batched_records(size, count, meta, shape, last_batch)
        expanded = [part for part, n in placed for _ in range(n)]
        one_by_one = [_kafka_append(single, meta, size, shape, deques) for _ in range(count)]
        assert expanded == one_by_one
        assert bulk.produced_bytes == single.produced_bytes
        for p in drained:  # the Sender sent every batch of these partitions
            deques.pop(p, None)


def test_sticky_stint_of_1kib_records_is_two_batches_and_a_remainder() -> None:
    # 1 KiB values (1032 B with framing), batch.size 16 KiB: 15 records per batch. The
    # 16th opens a second batch, so the deque is never all full and the switch waits for
    # 2 x batch.size: 3 headers + 32 records = 33207 B >= 32768 -- 2 full batches and 2
    # records left to linger (the old "switch at batch.size" would leave 1 of 16).
    meta = TopicMetadata.all_available(144)
    p = BuiltInPartitioner("T", 16384, _seq_random())
    runs = p.place_batched_records(1032, 100, meta, BatchShape(15, 61), lambda _: None)
    assert [n for _, n in runs] == [32, 32, 32, 4]
    assert sticky_stint_records(1032, 16384, BatchShape(15, 61)) == 32
    # records that fill a batch exactly leave it full: the switch comes at batch.size
    assert sticky_stint_records(1024, 16384, BatchShape(16, 0, full_when_filled=True)) == 16
    # when the Sender has drained the partition in between, the deferred switch is taken
    # at the next append (RecordAccumulator.partitionChanged)
    p = BuiltInPartitioner("T", 16384, _seq_random())
    first = p.place_batched_records(1032, 16, meta, BatchShape(15, 61), lambda _: None)
    assert first == [(first[0][0], 16)] and p.produced_bytes == 2 * 61 + 16 * 1032
    again = p.place_batched_records(1032, 1, meta, BatchShape(15, 61), lambda _: None)
    assert again[0][0] != first[0][0] and p.produced_bytes == 61 + 1032


def test_enable_switch_false_defers_until_twice_batch_size() -> None:
    # BuiltInPartitioner.updatePartitionInfo: without enableSwitch, switch at 2x batch.size.
    meta = TopicMetadata.all_available(4)
    p = BuiltInPartitioner("T", 100, _seq_random())
    assert p.update_partition_info(150, meta, enable_switch=False) is False
    assert p.bytes_until_switch(enable_switch=False) == 50
    assert p.update_partition_info(50, meta, enable_switch=False) is True


def test_same_seed_same_sequence() -> None:
    meta = TopicMetadata.from_leaders([0, 1, None, 2, 0, 1, 2])

    def run(seed: int) -> list[tuple[int, int]]:
        p = BuiltInPartitioner("T", 16384, np.random.default_rng(seed))
        p.update_partition_load_stats([3, 0, 0, 2, 9, 1, 4], [0, 1, 3, 4, 5, 6, 2], 6)
        return p.place_batched_records(1000, 500, meta, BatchShape(16, 61), lambda _: None)

    assert run(42) == run(42)
    assert run(42) != run(43)


# ---- RoundRobinPartitioner ----------------------------------------------------------


def test_round_robin_with_unavailable_partitions() -> None:
    # RoundRobinPartitionerTest.testRoundRobinWithUnavailablePartitions: partition 1 has no
    # leader and the metadata lists partitions out of order (1, 2, 0): 100 records split
    # 50/50 between 2 and 0, starting with 2.
    meta = TopicMetadata(3, (2, 0))
    rr = RoundRobinPartitioner()
    picks = [rr.partition("test", None, meta) for _ in range(100)]
    assert picks[:4] == [2, 0, 2, 0]
    assert picks.count(0) == picks.count(2) == 50


def test_round_robin_with_key_bytes() -> None:
    # RoundRobinPartitionerTest.testRoundRobinWithKeyBytes: 30 records with key "key" on
    # topicA (3 partitions), a topicB record every 5th -> 10 per topicA partition.
    topic_a = TopicMetadata.all_available(3)
    topic_b = TopicMetadata.all_available(1)
    rr = RoundRobinPartitioner()
    counts = [0, 0, 0]
    for i in range(30):
        counts[rr.partition("topicA", b"key", topic_a)] += 1
        if i % 5 == 0:
            rr.partition("topicB", b"key", topic_b)
    assert counts == [10, 10, 10]
    none_available = TopicMetadata(4, ())
    assert rr.partition("x", None, none_available) == 0  # falls back to all partitions
    assert rr.partition("x", None, none_available) == 1


@pytest.mark.parametrize("num_partitions", [3, 4])
def test_round_robin_with_null_key_bytes_and_single_record_batches(num_partitions: int) -> None:
    # RoundRobinPartitionerTest.testRoundRobinWithNullKeyBytes (3 partitions, 30 records)
    # and ...AndEvenPartitionCount (4 partitions, 40 records): onNewBatch after every
    # record; the repeated partition() call returns the same partition.
    topic_a = TopicMetadata.all_available(num_partitions)
    topic_b = TopicMetadata.all_available(1)
    rr = RoundRobinPartitioner()
    counts = [0] * num_partitions
    for i in range(10 * num_partitions):
        partition = rr.partition("topicA", None, topic_a)
        rr.on_new_batch("topicA", partition)
        assert rr.partition("topicA", None, topic_a) == partition
        counts[partition] += 1
        if i % 5 == 0:
            rr.partition("topicB", None, topic_b)
    assert counts == [10] * num_partitions


def test_round_robin_counter_wraps_like_atomic_integer() -> None:
    rr = RoundRobinPartitioner()
    rr._counters["t"] = 2**31 - 1
    meta = TopicMetadata.all_available(5)
    assert rr.partition("t", None, meta) == (2**31 - 1) % 5
    assert rr.partition("t", None, meta) == 0  # toPositive(Integer.MIN_VALUE) == 0


# ---- KafkaProducer.partition dispatch -----------------------------------------------


def test_choose_partition_dispatch_order() -> None:
    meta = TopicMetadata.all_available(3)
    sticky = BuiltInPartitioner("T", 16384, _seq_random())
    assert choose_partition(b"test", meta, explicit_partition=1) == 1
    assert choose_partition(b"test", meta, custom_partitioner=RoundRobinPartitioner()) == 0
    assert choose_partition(b"test", meta) == 2  # murmur2
    assert choose_partition(None, meta) == UNKNOWN_PARTITION
    sticky_choice = choose_partition(b"test", meta, partitioner_ignore_keys=True, built_in=sticky)
    assert sticky_choice == sticky.current_partition(meta) == 0
    assert choose_partition(None, meta, built_in=sticky) == 0


def test_round_robin_new_batch_retry_kafka_17632() -> None:
    # KAFKA-17632 (with an even partition count only half the partitions get data): when
    # every record opens a new batch, the pre-fix partitioner (onNewBatch a no-op) is
    # asked twice per record and the counter skips every other partition.
    meta = TopicMetadata.all_available(4)
    broken = RoundRobinPartitioner(kafka_17632_fixed=False)
    picks = [broken.partition_record("t", None, meta, lambda p: True) for _ in range(8)]
    assert picks == [1, 3, 1, 3, 1, 3, 1, 3]
    # RoundRobinPartitionerTest (4.x): after onNewBatch the previous partition is returned
    # and the counter moves once per record, so all partitions are used in turn.
    fixed = RoundRobinPartitioner()
    picks = [fixed.partition_record("t", None, meta, lambda p: True) for _ in range(8)]
    assert picks == [0, 1, 2, 3, 0, 1, 2, 3]
    # The remembered partition is only returned for the same topic, then forgotten.
    fixed.on_new_batch("t", 3)
    assert fixed.partition("other", None, meta) == 0
    assert fixed.partition("t", None, meta) == 0


def test_update_from_queues_turns_adaptive_on_and_off() -> None:
    meta = TopicMetadata.all_available(3)
    p = BuiltInPartitioner("T", 1, _seq_random())
    queues = [PartitionQueue(0, True, 0), PartitionQueue(1, True, 3), PartitionQueue(2, True, 1)]
    p.update_from_queues(queues, 3)
    assert p.load_stats_range_end() == 8  # the 4 5 8 example
    assert [p.next_partition(meta) for _ in range(8)] == [0, 0, 0, 0, 1, 2, 2, 2]
    p.update_from_queues(queues, 3, adaptive=False)
    assert not p.adaptive_active
    p.update_from_queues(queues[:2], 3)  # a partition has no deque yet: uniform
    assert not p.adaptive_active
