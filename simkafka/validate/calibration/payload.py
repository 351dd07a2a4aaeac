"""The payload the per-byte costs are measured on: batches of 1 KiB JSON-like records.

Compression speed and ratio depend on the data, so it has to look like what people send
through Kafka: event records in JSON, each about 1 KiB, with the same field names in
every record and values that vary -- ids, timestamps and amounts that differ per record,
categorical fields drawn from small vocabularies, a free-text field of words, and a
random hex session token (not compressible at all). A 16 KiB batch of them compresses
to about 29 % of its size with gzip and zstd, 39 % with snappy and 43 % with lz4 -- the
range of real JSON event streams; a repetitive text (one record over and over, or a
lorem-ipsum filler) compresses to under 5 % and would make every codec look far faster
than it is on real data. The ratios actually obtained are reported with the figures.

Generated from a seeded random stream, so every run measures the same bytes.
"""

from __future__ import annotations

import json
import random

from simkafka.log.records import Record, build_batch

__all__ = ["RECORD_BYTES", "json_records", "records_section", "records_batch"]

#: Target size of one record's value.
RECORD_BYTES = 1024

_EVENTS = (
    "page_view", "add_to_cart", "remove_from_cart", "checkout", "payment_authorised",
    "payment_failed", "login", "logout", "search", "review_posted", "refund_requested",
    "shipment_dispatched",
)
_COUNTRIES = ("DE", "FR", "GB", "US", "CA", "BR", "IN", "JP", "AU", "NL", "SE", "ES", "IT", "PL")
_DEVICES = ("ios", "android", "web-desktop", "web-mobile", "smart-tv", "api")
_CURRENCIES = ("EUR", "USD", "GBP", "JPY", "INR", "BRL", "SEK")
_WORDS = (
    "order delivery fast great product quality price return support account password reset "
    "discount coupon shipping warehouse package delayed arrived damaged replacement colour "
    "size small large medium fits perfectly recommend would again never service friendly "
    "slow checkout cart wishlist item stock available unavailable notify subscription "
    "monthly annual renewal cancel upgrade downgrade invoice receipt tax address billing "
    "card expired declined approved pending processing complete tracking number courier"
).split()


def _record(rng: random.Random, sequence: int, target: int) -> bytes:
    event = {
        "event_id": f"{rng.getrandbits(64):016x}-{sequence:08d}",
        "type": rng.choice(_EVENTS),
        "ts": 1_700_000_000_000 + sequence * 37 + rng.randrange(1000),
        "user": {
            "id": rng.randrange(10_000_000),
            "country": rng.choice(_COUNTRIES),
            "device": rng.choice(_DEVICES),
            "session": f"{rng.getrandbits(128):032x}",
        },
        "cart": [
            {
                "sku": f"SKU-{rng.randrange(100_000):05d}",
                "qty": rng.randrange(1, 6),
                "price": round(rng.uniform(0.5, 500), 2),
            }
            for _ in range(rng.randrange(1, 5))
        ],
        "currency": rng.choice(_CURRENCIES),
        "amount": round(rng.uniform(1, 2000), 2),
        "ab_bucket": rng.randrange(100),
        "flags": {"returning": rng.random() < 0.6, "promo": rng.random() < 0.2},
        "comment": "",
    }
    text = json.dumps(event, separators=(",", ":"))
    # the free-text field fills the record to about `target` bytes
    words: list[str] = []
    room = target - len(text)
    while room > 0:
        word = rng.choice(_WORDS)
        words.append(word)
        room -= len(word) + 1
    event["comment"] = " ".join(words)
    return json.dumps(event, separators=(",", ":")).encode()


def json_records(count: int, *, seed: int = 11, target: int = RECORD_BYTES) -> list[bytes]:
    """``count`` JSON event records of about ``target`` bytes each, the same for a seed."""
    rng = random.Random(seed)
    return [_record(rng, i, target) for i in range(count)]


def records_batch(count: int, *, seed: int = 11, base_timestamp: int = 1_700_000_000_000) -> bytes:
    """One uncompressed v2 batch of ``count`` JSON records, as a producer would close it."""
    records = [
        Record(offset_delta=i, timestamp_delta=i % 7, value=value)
        for i, value in enumerate(json_records(count, seed=seed))
    ]
    return build_batch(records, base_offset=0, base_timestamp=base_timestamp)


def records_section(total_bytes: int, *, seed: int = 11) -> bytes:
    """The records section (what a codec compresses) of a batch of about ``total_bytes``."""
    from simkafka.log.records import RECORDS_OFFSET

    count = max(1, total_bytes // (RECORD_BYTES + 8))
    return records_batch(count, seed=seed)[RECORDS_OFFSET:]
