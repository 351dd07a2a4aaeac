"""Producers and consumer groups: rates and their time profiles, message sizes, keys, client configs."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Field,
    PlainSerializer,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from simkafka.scenario.base import SpecModel, split_csv
from simkafka.scenario.cluster import BrokerConfig
from simkafka.scenario.limits import INT32_MAX, MAX_CLIENTS, MAX_KEYS
from simkafka.scenario.profiles import (  # noqa: F401  (the profiles' historical home)
    BurstProfile,
    ConstantProfile,
    DiurnalProfile,
    GrowthProfile,
    PoissonProfile,
    Profile,
    Step,
    StepProfile,
)
from simkafka.scenario.quantities import (
    ByteSize,
    Duration,
    IntByteSize,
    IntMillis,
    Millis,
    PositiveDuration,
    PositiveIntMillis,
    PositiveMillis,
    out_of_range,
    size_type,
)
from simkafka.scenario.uncertain import (
    DISTRIBUTIONS,
    UncertainRate,
    UncertainSize,
    check_uncertain_form,
    uncertain_json_schema,
    written_as_uncertain,
)
from simkafka.units import (
    UnitError,
    parse_byte_rate,
    parse_message_rate,
    write_byte_rate,
    write_message_rate,
)


def _rate_or_error(parse, value: object) -> float:
    try:
        return parse(value)
    except UnitError as exc:
        raise ValueError(str(exc)) from None


MAX_RATE = "max"


class Rate(SpecModel):
    """A rate in messages/s or in bytes/s -- exactly one of the two -- or ``max``.

    Written as ``10000 msg/s``, ``50MB/s``, ``1Gbps`` or a bare number (messages/s, as
    OpenMessaging Benchmark's ``producerRate``). ``max`` is an unthrottled producer, as
    ``kafka-producer-perf-test --throughput -1`` and OMB's max-rate mode: it sends as fast
    as its application thread, ``max.in.flight.requests.per.connection`` and
    ``buffer.memory`` allow (``send()`` waits on a full buffer, it never fails for it), so
    the run reports the sustainable maximum rather than an offered rate. Its
    :meth:`messages` and :meth:`bytes` are infinite: callers that need a number ask
    :attr:`is_max` first.
    """

    messages_per_second: float | None = Field(None, gt=0, allow_inf_nan=False)
    bytes_per_second: float | None = Field(None, gt=0, allow_inf_nan=False)
    maximum: bool = Field(False, description="unthrottled: as fast as the producer can")

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, dict) and set(value) & set(DISTRIBUTIONS):
            raise ValueError("a fixed rate is expected here: only a producer's rate and message_size can be uncertain")
        return _parse_rate(value)

    @model_validator(mode="after")
    def _exactly_one(self) -> Rate:
        return self._check_one_given()

    def _check_one_given(self) -> Rate:
        given = sum(x is not None for x in (self.messages_per_second, self.bytes_per_second))
        if self.maximum and given:
            raise ValueError("give the rate as 'max' or as a number, not both")
        if not self.maximum and given != 1:
            raise ValueError("give the rate either in messages/s or in bytes/s, or 'max'")
        return self

    @property
    def is_max(self) -> bool:
        """An unthrottled producer (``rate: max``)."""
        return self.maximum

    def messages(self, mean_message_bytes: float) -> float:
        """The rate in messages/s, given the mean (uncompressed) message size (infinite
        for ``max``)."""
        if self.maximum:
            return math.inf
        if self.messages_per_second is not None:
            return self.messages_per_second
        return self.bytes_per_second / mean_message_bytes  # type: ignore[operator]

    def bytes(self, mean_message_bytes: float) -> float:
        """The rate in bytes/s of uncompressed message payload (infinite for ``max``)."""
        if self.maximum:
            return math.inf
        if self.bytes_per_second is not None:
            return self.bytes_per_second
        return self.messages_per_second * mean_message_bytes  # type: ignore[operator]

    def __str__(self) -> str:
        """As a person writes it (``20000 msg/s``, ``20MiB/s``, ``max``), exact enough to load back."""
        if self.maximum:
            return MAX_RATE
        if self.messages_per_second is not None:
            return write_message_rate(self.messages_per_second)
        return write_byte_rate(self.bytes_per_second)  # type: ignore[arg-type]


def _parse_rate(value: object) -> object:
    """What a person writes for a rate -> the fields of :class:`Rate` (a dict passes as is)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().lower() == MAX_RATE:
        return {"maximum": True}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = {"messages_per_second": _rate_or_error(parse_message_rate, value)}
    else:
        try:
            parsed = {"messages_per_second": parse_message_rate(value)}
        except UnitError:
            try:
                parsed = {"bytes_per_second": parse_byte_rate(value)}
            except UnitError:
                raise ValueError(f"expected a rate such as '10000 msg/s', '50MB/s' or '1Gbps', got {value!r}") from None
    if next(iter(parsed.values())) <= 0:
        raise out_of_range("a producer's rate must be greater than 0", "remove a producer that sends nothing")
    return parsed


_RATE_KEYS = frozenset({"messages_per_second", "bytes_per_second", "maximum"})


def _rate_to_text(rate: Rate) -> str:
    return str(rate)


_RATE_SCHEMA: list[dict[str, Any]] = [
    {"type": "number"}, {"type": "string", "description": "e.g. 10000 msg/s, 50MB/s, or max"},
]

RateField = Annotated[
    Rate,
    PlainSerializer(_rate_to_text, return_type=str),
    WithJsonSchema({"anyOf": _RATE_SCHEMA}),
]



class DiurnalRate(SpecModel):
    """A rate that follows the day, written on the rate itself:
    ``rate: {profile: diurnal, peak: 500MB/s, trough: 50MB/s}`` (or in msg/s; ``period``
    and ``peak_at`` as for a diurnal profile, 1 d and 14:00 by default).

    It is the nominal rate ``(peak + trough) / 2`` -- the mean over a period -- under a
    :class:`DiurnalProfile` of amplitude ``(peak - trough) / (peak + trough)``, which
    becomes the producer's ``profile`` (so the producer cannot also have a ``profile:``).
    """

    profile: Literal["diurnal"]
    peak: RateField
    trough: RateField
    period: PositiveDuration = 86400.0
    peak_at: Duration = 14 * 3600.0

    example: ClassVar[str] = "{profile: diurnal, peak: 500MB/s, trough: 50MB/s}"

    @model_validator(mode="after")
    def _consistent(self) -> DiurnalRate:
        if self.peak.is_max or self.trough.is_max:
            raise ValueError(f"a diurnal rate's peak and trough are rates, not 'max': {self.example}")
        if (self.peak.messages_per_second is None) != (self.trough.messages_per_second is None):
            raise ValueError("give a diurnal rate's peak and trough in the same unit: both in msg/s or both in bytes/s")
        if self._values[0] < self._values[1]:
            raise out_of_range(f"the peak ({self.peak}) is below the trough ({self.trough})",
                               "the peak is the busiest rate of the day: peak >= trough")
        return self

    @property
    def _values(self) -> tuple[float, float]:
        unit = "messages_per_second" if self.peak.messages_per_second is not None else "bytes_per_second"
        return getattr(self.peak, unit), getattr(self.trough, unit)

    @property
    def nominal(self) -> float:
        """The mean rate over a period, in the peak's unit."""
        peak, trough = self._values
        return (peak + trough) / 2

    @property
    def in_messages(self) -> bool:
        return self.peak.messages_per_second is not None

    def as_profile(self) -> DiurnalProfile:
        """The profile the rate follows around its nominal value."""
        peak, trough = self._values
        return DiurnalProfile.model_validate({
            "period": self.period, "peak_at": self.peak_at, "amplitude": (peak - trough) / (peak + trough)})

    def written(self) -> dict[str, Any]:
        """As the file wrote it (loads back to the same)."""
        return self.model_dump(mode="json", by_alias=True)


class ProducerRate(Rate):
    """A producer's rate: a :class:`Rate`, an uncertain one (:class:`UncertainRate`,
    ``{normal: 500MB/s, sd: 10%}``) whose nominal value -- the mean, a uniform's midpoint --
    is the rate's own, so :meth:`messages`, :meth:`bytes` and a run use that, or a
    :class:`DiurnalRate` (``{profile: diurnal, peak: ..., trough: ...}``) whose nominal
    value is its mean.
    """

    # read from the written form (`rate: {normal: ...}`), never written by this name; it
    # prints back through ProducerRateField's serialiser
    uncertainty: SkipJsonSchema[UncertainRate | None] = Field(
        None, exclude=True, description="what the rate may truly be")

    # read from the written form (`rate: {profile: diurnal, ...}`), printed back as written
    shape: SkipJsonSchema[DiurnalRate | None] = Field(
        None, exclude=True, description="the rate's daily shape, written on the rate")

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, dict) and ("uncertainty" in value or "shape" in value):
            raise ValueError(f"write an uncertain rate as {UncertainRate.example}, a diurnal one as "
                             f"{DiurnalRate.example}")
        if isinstance(value, dict) and "profile" in value:
            if value["profile"] != "diurnal":
                raise ValueError(f"a rate written with a profile is diurnal ({DiurnalRate.example}); "
                                 "give other profiles as the producer's `profile:`")
            return {"shape": value}
        if written_as_uncertain(value, _RATE_KEYS):
            check_uncertain_form(value, UncertainRate.quantity, UncertainRate.example)  # type: ignore[arg-type]
            return {"uncertainty": value}
        return _parse_rate(value)

    @model_validator(mode="after")
    def _exactly_one(self) -> ProducerRate:
        if self.uncertainty is not None:
            # frozen: set while validating, as the nominal of the distribution just read
            field = "messages_per_second" if self.uncertainty.unit == "msg/s" else "bytes_per_second"
            object.__setattr__(self, field, self.uncertainty.nominal)
        if self.shape is not None:
            field = "messages_per_second" if self.shape.in_messages else "bytes_per_second"
            object.__setattr__(self, field, self.shape.nominal)
        self._check_one_given()
        return self

    @property
    def uncertain(self) -> bool:
        """Whether the rate is a distribution rather than a value."""
        return self.uncertainty is not None



def _producer_rate_to_text(rate: ProducerRate) -> str | dict[str, Any]:
    if rate.shape is not None:
        return rate.shape.written()
    return rate.uncertainty.written() if rate.uncertainty is not None else str(rate)


#: A producer's rate: a :data:`RateField`, or uncertain (``{normal: 500MB/s, sd: 10%}``).
ProducerRateField = Annotated[
    ProducerRate,
    PlainSerializer(_producer_rate_to_text, return_type=str | dict[str, Any]),
    WithJsonSchema({"anyOf": [
        *_RATE_SCHEMA,
        uncertain_json_schema({"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"}]},
                              UncertainRate.example),
        {"type": "object", "description": f"a diurnal rate: {DiurnalRate.example}",
         "required": ["profile", "peak", "trough"],
         "properties": {"profile": {"const": "diurnal"}, "peak": {"anyOf": _RATE_SCHEMA},
                        "trough": {"anyOf": _RATE_SCHEMA}, "period": {"type": ["string", "number"]},
                        "peak_at": {"type": ["string", "number"]}},
         "additionalProperties": False},
    ]}),
]


# ---- message sizes and keys ------------------------------------------------------------


# a record is at most an int32 of bytes in Kafka's protocol; printed with its unit (1KiB)
_MessageSize = size_type(kafka="int", as_text=True)
_PositiveMessageSize = size_type(kafka="int", as_text=True, positive=True)


_SIZE_KEYS = frozenset({"distribution", "mean", "stddev", "min", "max"})


class SizeDistribution(SpecModel):
    """Uncompressed value size per message. ``message_size: 1KiB`` means fixed.

    ``{distribution: lognormal, mean: 1KiB, stddev: 200}`` varies from message to message.
    ``{lognormal: 1KiB, sd: 25%}`` (the distribution's name as the key) is different: a
    fixed size whose value is uncertain (:class:`UncertainSize`); a run uses its nominal
    value (the mean, or a uniform's midpoint, in whole bytes), Monte Carlo draws it. The
    two do not combine: an uncertain size is the uncertain mean of a *fixed* size.
    """

    distribution: Literal["fixed", "uniform", "normal", "lognormal", "exponential"] = "fixed"
    mean: _PositiveMessageSize
    stddev: _MessageSize = 0
    min: _MessageSize = 1
    max: _PositiveMessageSize | None = None
    # read from the written form (`message_size: {lognormal: ...}`), never written by this
    # name; it prints back through _written
    uncertainty: SkipJsonSchema[UncertainSize | None] = Field(
        None, exclude=True, description="what the fixed size may truly be")

    @model_validator(mode="before")
    @classmethod
    def _fixed_shorthand(cls, value: object) -> object:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return {"distribution": "fixed", "mean": value}
        if isinstance(value, dict) and ("uncertainty" in value or isinstance(value.get("mean"), dict)):
            raise ValueError(_COMBINED)
        if written_as_uncertain(value, _SIZE_KEYS):
            if set(value) & _SIZE_KEYS:  # type: ignore[arg-type]
                raise ValueError(_COMBINED)
            check_uncertain_form(value, UncertainSize.quantity, UncertainSize.example)  # type: ignore[arg-type]
            # `mean` is required and is the uncertain value's nominal: a placeholder here,
            # replaced once the uncertain value is read (_consistent)
            return {"distribution": "fixed", "mean": 1, "uncertainty": value}
        return value

    @model_serializer(mode="wrap")
    def _written(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        # an uncertain size prints as written, so it validates back to the same
        if self.uncertainty is not None:
            return self.uncertainty.written()
        return handler(self)

    @model_validator(mode="after")
    def _consistent(self) -> SizeDistribution:
        if self.uncertainty is not None:
            object.__setattr__(self, "mean", max(1, round(self.uncertainty.nominal)))
        if self.max is not None and self.max < self.mean:
            raise ValueError(f"max ({self.max}) is below the mean ({self.mean})")
        if self.distribution in ("normal", "lognormal") and self.stddev == 0:
            raise ValueError(f"a {self.distribution} size needs a positive stddev")
        return self


_COMBINED = (
    "an uncertain message size ({lognormal: 1KiB, sd: 25%}) is the uncertain mean of a fixed size; it is "
    "written in place of the size and does not combine with distribution, mean, stddev, min or max "
    "(per-message variability): write one or the other"
)


class KeySpec(SpecModel):
    """How records are keyed. Key ``i`` is the UTF-8 bytes of ``key-<i>``; murmur2 routes it."""

    distribution: Literal["none", "uniform", "zipf", "sequential"] = "none"
    count: int | None = Field(None, ge=1, le=MAX_KEYS, description="number of distinct keys")
    exponent: float = Field(1.0, gt=0, allow_inf_nan=False, description="zipf exponent s")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if value is None or value == "none":
            return {"distribution": "none"}
        return value

    @model_validator(mode="after")
    def _count_needed(self) -> KeySpec:
        if self.distribution != "none" and self.count is None:
            raise ValueError(f"keys with distribution '{self.distribution}' need a `count` of distinct keys")
        return self

    @property
    def keyed(self) -> bool:
        return self.distribution != "none"


# Typical compressed/uncompressed ratios for JSON-like payloads; a scenario should give
# its own `compression_ratio` measured on its data (see `simkafka bench-log`).
DEFAULT_COMPRESSION_RATIO = {"none": 1.0, "gzip": 0.30, "snappy": 0.50, "lz4": 0.48, "zstd": 0.28}

ROUND_ROBIN_PARTITIONER = "org.apache.kafka.clients.producer.RoundRobinPartitioner"


class ProducerSpec(SpecModel):
    """``count`` identical producer instances on one topic; ``rate`` is their total."""

    name: str | None = None
    topic: str
    count: int = Field(1, ge=1, le=MAX_CLIENTS)
    rate: ProducerRateField
    profile: Profile = ConstantProfile()
    message_size: SizeDistribution
    keys: KeySpec = KeySpec()
    compression_ratio: float | None = Field(None, gt=0, le=1, allow_inf_nan=False,
                                            description="compressed / uncompressed bytes")
    acks: Literal["0", "1", "all"] = Field("all", description="Kafka >= 3.0 default: all")
    batch_size: IntByteSize = Field(16384, alias="batch.size")
    linger: Millis = Field(0.005, alias="linger.ms", description="Kafka >= 4.0 default: 5 ms (KIP-1030)")
    compression_type: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field("none", alias="compression.type")
    max_in_flight_requests_per_connection: int = Field(
        5, ge=1, le=INT32_MAX, alias="max.in.flight.requests.per.connection"
    )
    enable_idempotence: bool = Field(True, alias="enable.idempotence")
    request_timeout: IntMillis = Field(30.0, alias="request.timeout.ms")
    delivery_timeout: IntMillis = Field(120.0, alias="delivery.timeout.ms")
    retries: int = Field(2147483647, ge=0, le=INT32_MAX)
    retry_backoff: Millis = Field(0.1, alias="retry.backoff.ms")
    # the client refreshes its metadata after an error and at least this often
    metadata_max_age: PositiveMillis = Field(300.0, alias="metadata.max.age.ms")
    buffer_memory: ByteSize = Field(33554432, alias="buffer.memory")
    max_block: Millis = Field(60.0, alias="max.block.ms", description="how long send() blocks on a full buffer.memory")
    max_request_size: IntByteSize = Field(1048576, alias="max.request.size")
    partitioner_class: Literal["org.apache.kafka.clients.producer.RoundRobinPartitioner"] | None = Field(
        None, alias="partitioner.class"
    )
    partitioner_ignore_keys: bool = Field(False, alias="partitioner.ignore.keys")
    partitioner_adaptive_partitioning_enable: bool = Field(
        True, alias="partitioner.adaptive.partitioning.enable"
    )
    partitioner_availability_timeout: Millis = Field(0.0, alias="partitioner.availability.timeout.ms")

    @model_validator(mode="after")
    def _profile_from_rate(self) -> ProducerSpec:
        # `rate: {profile: diurnal, ...}` is the producer's profile; with a `profile:` as
        # well it is a contradiction (scenario.checks says so, pointing at `profile`)
        if self.rate.shape is not None and "profile" not in self.model_fields_set:
            object.__setattr__(self, "profile", self.rate.shape.as_profile())
        return self

    @model_serializer(mode="wrap")
    def _written(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        # the profile a diurnal rate implies is written by the rate: not twice
        data = handler(self)
        if self.rate.shape is not None and "profile" not in self.model_fields_set and isinstance(data, dict):
            data.pop("profile", None)
        return data

    @field_validator("acks", mode="before")
    @classmethod
    def _acks_text(cls, value: object) -> object:
        # YAML reads `acks: 1` as an int and Kafka accepts -1 for all
        if isinstance(value, int) and not isinstance(value, bool):
            return {0: "0", 1: "1", -1: "all"}.get(value, str(value))
        return "all" if value == "-1" else value

    @model_validator(mode="after")
    def _implicit_idempotence(self) -> ProducerSpec:
        # Kafka >= 3.2: idempotence left at its default is disabled, silently, when acks,
        # in-flight requests or retries conflict with it; store what the producer runs
        # with, so the resolved scenario says enable.idempotence: false
        if "enable_idempotence" not in self.model_fields_set and self.enable_idempotence and not self._idempotence_possible:
            object.__setattr__(self, "enable_idempotence", False)
        return self

    @property
    def _idempotence_possible(self) -> bool:
        return self.acks == "all" and self.max_in_flight_requests_per_connection <= 5 and self.retries > 0

    @property
    def effective_compression_ratio(self) -> float:
        if self.compression_type == "none":
            return 1.0
        if self.compression_ratio is not None:
            return self.compression_ratio
        return DEFAULT_COMPRESSION_RATIO[self.compression_type]

    @property
    def idempotent(self) -> bool:
        """Whether the producer really runs idempotent.

        Kafka >= 3.2: when ``enable.idempotence`` is *not set* and acks/in-flight/retries
        conflict with it, idempotence is silently disabled; when it *is set* to true the
        conflict is a ConfigException (checked by the loader).
        """
        return self.enable_idempotence and self._idempotence_possible


ASSIGNOR_CLASS_NAMES = {
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.StickyAssignor": "sticky",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}
ClassicAssignorName = Literal["range", "roundrobin", "sticky", "cooperative-sticky"]
Delivery = Literal["at-most-once", "at-least-once", "exactly-once"]

# JoinGroupRequest.validateGroupInstanceId: Kafka's topic-name characters, at most 249 of
# them; a member's id is "<prefix>-<index>", the index below MAX_CLIENTS
_LEGAL_INSTANCE_ID = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_INSTANCE_ID_PREFIX = 249 - len(f"-{MAX_CLIENTS - 1}")


class ConsumerGroupSpec(SpecModel):
    """A consumer group of ``members`` identical consumers, each on a host of its own."""

    group_id: str = Field(alias="group.id", min_length=1)
    topics: tuple[str, ...] = Field(min_length=1)
    members: int = Field(ge=1, le=MAX_CLIENTS)
    processing_time_per_record: Duration = Field(0.0, description="application time per record")
    group_protocol: Literal["classic", "consumer"] = Field("classic", alias="group.protocol")
    partition_assignment_strategy: tuple[ClassicAssignorName, ...] = Field(
        ("range", "cooperative-sticky"), alias="partition.assignment.strategy",
        description="classic protocol; the first strategy all members support is used",
    )
    group_remote_assignor: Literal["uniform", "range"] = Field("uniform", alias="group.remote.assignor")
    max_poll_records: int = Field(500, ge=1, le=INT32_MAX, alias="max.poll.records")
    fetch_min_bytes: IntByteSize = Field(1, alias="fetch.min.bytes")
    fetch_max_bytes: IntByteSize = Field(52428800, alias="fetch.max.bytes")
    fetch_max_wait: IntMillis = Field(0.5, alias="fetch.max.wait.ms")
    max_partition_fetch_bytes: IntByteSize = Field(1048576, alias="max.partition.fetch.bytes")
    session_timeout: PositiveIntMillis = Field(45.0, alias="session.timeout.ms")
    heartbeat_interval: PositiveIntMillis = Field(3.0, alias="heartbeat.interval.ms")
    max_poll_interval: PositiveIntMillis = Field(300.0, alias="max.poll.interval.ms")
    enable_auto_commit: bool = Field(
        True, alias="enable.auto.commit",
        description="Kafka's default true; left unset with delivery exactly-once it is false (offsets go "
        "with the transaction, as Kafka Streams forces)",
    )
    auto_commit_interval: IntMillis = Field(5.0, alias="auto.commit.interval.ms")
    auto_offset_reset: Literal["latest", "earliest", "none"] = Field("latest", alias="auto.offset.reset")
    delivery: Delivery = Field(
        "at-least-once",
        description="the application's processing/commit order: at-most-once commits the polled records' "
        "offsets (commitSync) before processing them; at-least-once commits after processing "
        "(enable.auto.commit's commit inside poll(), or a commitSync after each processed batch when "
        "enable.auto.commit is false); exactly-once reads, processes and writes in transactions, the "
        "offsets sent with the transaction (sendOffsetsToTransaction), isolation.level read_committed",
    )
    group_instance_id: str | None = Field(
        None, alias="group.instance.id", min_length=1, max_length=MAX_INSTANCE_ID_PREFIX,
        description="static membership (KIP-345): a prefix, member i is <prefix>-<i>; a restarted member "
        "rejoins under its id and, within session.timeout.ms, without a rebalance. Kafka's default: none",
    )
    isolation_level: Literal["read_uncommitted", "read_committed"] = Field(
        "read_uncommitted", alias="isolation.level",
        description="read_committed: fetches stop at the last stable offset and skip aborted transactions. "
        "Kafka's default read_uncommitted; left unset with delivery exactly-once it is read_committed",
    )
    # Kafka Streams' commit.interval.ms: 30 s by default, 100 ms under exactly_once_v2
    # (StreamsConfig.EOS_DEFAULT_COMMIT_INTERVAL_MS), a Java long
    commit_interval: Millis = Field(
        0.1, alias="commit.interval.ms",
        description="delivery exactly-once only: how often a transaction commits (Kafka Streams' default "
        "under exactly_once_v2: 100 ms)",
    )

    @field_validator("topics", mode="before")
    @classmethod
    def _topic_list(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("group_instance_id")
    @classmethod
    def _legal_instance_id(cls, prefix: str | None) -> str | None:
        # JoinGroupRequest.validateGroupInstanceId: Kafka's topic-name characters; the
        # length bound (max_length) leaves room for the member's "-<index>"
        if prefix is not None and not _LEGAL_INSTANCE_ID.match(prefix):
            raise ValueError("a group.instance.id uses only ASCII letters, digits, '.', '_' and '-'")
        return prefix

    @model_validator(mode="after")
    def _implicit_exactly_once_settings(self) -> ConsumerGroupSpec:
        # a transactional read-process-write application reads committed data only and
        # commits its offsets in the transaction, never on its own (Kafka Streams forces
        # both); settings the file leaves unset follow, explicit ones are checked by
        # scenario.group_checks
        if self.delivery == "exactly-once":
            if "isolation_level" not in self.model_fields_set:
                object.__setattr__(self, "isolation_level", "read_committed")
            if "enable_auto_commit" not in self.model_fields_set:
                object.__setattr__(self, "enable_auto_commit", False)
        return self

    def instance_id(self, index: int) -> str | None:
        """Member ``index``'s ``group.instance.id`` (``<prefix>-<index>``), or None for a
        dynamic member (no ``group.instance.id``)."""
        if self.group_instance_id is None:
            return None
        return f"{self.group_instance_id}-{index}"

    @property
    def static_membership(self) -> bool:
        """Whether the members have a ``group.instance.id`` (KIP-345)."""
        return self.group_instance_id is not None

    def effective_session_timeout(self, broker: BrokerConfig) -> float:
        """Seconds without a heartbeat after which the coordinator removes a member: the
        member's ``session.timeout.ms`` (classic), the brokers'
        ``group.consumer.session.timeout.ms`` (KIP-848: the coordinator decides)."""
        return self.session_timeout if self.group_protocol == "classic" else broker.group_consumer_session_timeout

    def effective_heartbeat_interval(self, broker: BrokerConfig) -> float:
        """Seconds between a member's heartbeats: its ``heartbeat.interval.ms`` (classic),
        the brokers' ``group.consumer.heartbeat.interval.ms`` (KIP-848: the coordinator
        sends it in every heartbeat response)."""
        return self.heartbeat_interval if self.group_protocol == "classic" else broker.group_consumer_heartbeat_interval

    @field_validator("partition_assignment_strategy", mode="before")
    @classmethod
    def _strategy_names(cls, value: object) -> object:
        names = split_csv(value)
        if isinstance(names, (list, tuple)):
            return tuple(ASSIGNOR_CLASS_NAMES.get(n, n) if isinstance(n, str) else n for n in names)
        return names

    @field_validator("partition_assignment_strategy")
    @classmethod
    def _strategy_given(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if not names:
            raise ValueError("name at least one assignor")
        return names

    @property
    def assignor(self) -> str:
        """The assignor the group ends up using (all members are identical here)."""
        if self.group_protocol == "consumer":
            return self.group_remote_assignor
        return self.partition_assignment_strategy[0]
