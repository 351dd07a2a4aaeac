"""The cost profile: every CPU and time cost the engines charge, in one documented place.

A scenario's ``costs:`` section overrides any part of it; the rest comes from the default
profile shipped with simkafka (``default_costs.yaml``, written by ``simkafka calibrate``
on the machine it names). ``costs:`` may also be the name of a profile file, relative to
the scenario, so that a profile measured on the user's own machine can be shared:

.. code-block:: yaml

    costs: my-laptop.costs.yaml        # written by `simkafka calibrate -o my-laptop.costs.yaml`
    # or, in place:
    costs:
      broker: {append_record_cpu: 40ns}

Each field says what Kafka does during that time and which code path ``calibrate`` times
for it; costs are per record, per batch, per request or per byte -- never per message
count alone, which is what lets the engines charge them a batch or a step at a time.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import Field, model_validator

from simkafka.scenario.base import SpecModel
from simkafka.scenario.quantities import Duration

CODECS = ("gzip", "snappy", "lz4", "zstd")


class ProducerCosts(SpecModel):
    """The Java producer's two threads: the application's ``send()`` and the Sender."""

    record_cpu: Duration = Field(
        description="application thread, per record: serialise, partition, append to the "
        "accumulator's open batch (MemoryRecordsBuilder.append) -- compression is charged apart"
    )
    batch_cpu: Duration = Field(
        description="Sender thread, per batch: close it (write the v2 header) and drain it"
    )
    ack_record_cpu: Duration = Field(
        description="Sender thread, per record acknowledged: complete its FutureRecordMetadata "
        "and run its callback (ProducerBatch.completeFutureAndFireCallbacks)"
    )
    request_cpu: Duration = Field(
        description="Sender thread, per ProduceRequest: build it, NetworkClient.poll, handle the response"
    )
    byte_cpu: Duration = Field(
        description="Sender thread, per byte sent: CRC32C of the closed batch and the copy to the socket"
    )


class BrokerCosts(SpecModel):
    """A broker's threads: network processors, request handlers, and the log's lock."""

    request_cpu: Duration = Field(
        description="request handler (I/O) thread, per request: parse, dispatch, build the response"
    )
    byte_cpu: Duration = Field(
        description="request handler thread, per byte handled (copies outside the log append)"
    )
    network_request_cpu: Duration = Field(
        description="network (processor) thread, per request: read and frame it, write the response"
    )
    network_byte_cpu: Duration = Field(
        description="network thread, per byte read from or written to a socket"
    )
    append_batch_cpu: Duration = Field(
        description="under the partition's lock, per batch appended: validate the header, assign "
        "offsets, append to the active segment, maybe an index entry (LogValidator + LogSegment.append)"
    )
    append_record_cpu: Duration = Field(
        description="under the partition's lock, per record a leader validates (LogValidator "
        "iterates the records of every batch; followers skip it)"
    )
    append_byte_cpu: Duration = Field(
        description="under the partition's lock, per byte appended: CRC32C validation of the batch"
    )
    fsync: Duration = Field(
        description="one fsync of a segment beyond writing its dirty bytes (flush.messages / flush.ms)"
    )
    recovery_byte_cpu: Duration = Field(
        description="log recovery after a crash (no .kafka_cleanshutdown), per byte re-validated "
        "from the segment holding the recovery point: LogSegment.recover's header walk, CRC-32C "
        "of every batch, rebuilding the offset and time indexes (LogLoader.recoverLog), from the "
        "page cache -- reading the bytes from disk is charged apart, at the disk's read bandwidth"
    )


class ConsumerCosts(SpecModel):
    """The consumer's ``poll()`` thread (the application's own thread)."""

    record_cpu: Duration = Field(
        description="per record handed out by poll(): parse it from the batch, deserialise"
    )
    byte_cpu: Duration = Field(
        description="per byte fetched: CRC32C check of each batch (check.crcs=true) and the copy"
    )


class CodecCosts(SpecModel):
    """One compression codec, per *uncompressed* byte, with the library the log engine uses."""

    compress_cpu: Duration
    decompress_cpu: Duration


class Codecs(SpecModel):
    gzip: CodecCosts
    snappy: CodecCosts
    lz4: CodecCosts
    zstd: CodecCosts

    def of(self, codec: str) -> CodecCosts | None:
        """The costs of ``codec``; ``None`` for no compression."""
        return None if codec in ("none", "uncompressed", "producer") else getattr(self, codec)


class CostProfile(SpecModel):
    """Every cost parameter of the engines, with where its figures came from."""

    source: str = Field(description="what measured these figures: machine, date, command")
    machine: dict[str, str] = Field(
        default_factory=dict, description="the machine the figures were measured on (CPU, cores, OS, disk)"
    )
    how: dict[str, str] = Field(
        default_factory=dict,
        description="for each cost (`broker.fsync`), the code path timed or, when it cannot be "
        "measured outside a real broker, where the figure comes from",
    )
    producer: ProducerCosts
    broker: BrokerCosts
    consumer: ConsumerCosts
    codecs: Codecs

    @model_validator(mode="before")
    @classmethod
    def _over_the_default(cls, data: object) -> object:
        # a scenario names only the costs it changes; the rest is the shipped profile's
        if not isinstance(data, dict):
            return data
        default = default_cost_data()
        merged = merge_over(default, data)
        if "source" not in data and data != default:
            merged["source"] = f"{default['source']}, with the scenario's changes"
        return merged


def merge_over(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied, mapping by mapping (a changed leaf replaces)."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_over(merged[key], value)
        else:
            merged[key] = value
    return merged


@cache
def default_cost_data() -> dict[str, Any]:
    """The shipped profile as plain data (read once, with the safe loader)."""
    text = resources.files("simkafka.scenario").joinpath("default_costs.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise RuntimeError("simkafka's default_costs.yaml is not a mapping")
    return data


@cache
def default_costs() -> CostProfile:
    """The profile every scenario starts from."""
    return CostProfile.model_validate(default_cost_data())
