"""Consumer groups checked as Kafka checks them, and the faults that change their membership.

Three kinds of finding (see :mod:`simkafka.scenario.findings`):

* a group's settings that the consumer refuses at construction (``ConsumerConfig``,
  ``Heartbeat``) or the coordinator refuses at JoinGroup (``INVALID_SESSION_TIMEOUT``),
  and settings the chosen ``delivery`` contradicts or ignores;
* the brokers' KIP-848 coordinator settings (``group.consumer.*``), which the broker
  checks at start (``GroupCoordinatorConfig``);
* membership faults (``consumer_crash``, ``consumer_join``, ``consumer_leave``,
  ``consumer_slow``, ``rolling_restart``) naming a group that does not exist, or a member
  that does not exist at the fault's time: a group has its ``members`` plus those of the
  ``consumer_join`` faults with an earlier ``at``, numbered from 0 in joining order; a
  member that has left (``consumer_leave``) or crashed for good (``consumer_crash`` with
  no ``restart_after``) is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simkafka.scenario.cluster import BrokerConfig
from simkafka.scenario.findings import Finding, closest, error, warning
from simkafka.scenario.limits import MAX_CLIENTS
from simkafka.scenario.model import Scenario
from simkafka.scenario.workload import ConsumerGroupSpec
from simkafka.units import format_duration

#: Faults that name one member of a group.
MEMBER_FAULT_TYPES = ("consumer_crash", "consumer_leave", "consumer_slow")
#: Faults that change a group's membership (and name the group).
GROUP_FAULT_TYPES = (*MEMBER_FAULT_TYPES, "consumer_join", "rolling_restart")

# ConsumerConfig.CONSUMER_PROTOCOL_UNSUPPORTED_CONFIGS (Kafka 4.0, KAFKA-17338): under
# group.protocol=consumer the coordinator decides these, and the consumer refuses them
# when set: (attribute, Kafka's name, where the setting lives instead)
_CLASSIC_ONLY = (
    ("partition_assignment_strategy", "partition.assignment.strategy",
     "the coordinator assigns the partitions: group.remote.assignor (uniform or range)"),
    ("heartbeat_interval", "heartbeat.interval.ms",
     "the brokers' cluster.config group.consumer.heartbeat.interval.ms sets it"),
    ("session_timeout", "session.timeout.ms",
     "the brokers' cluster.config group.consumer.session.timeout.ms sets it"),
)


def group_findings(group: ConsumerGroupSpec, at: tuple, config: BrokerConfig) -> list[Finding]:
    """What Kafka refuses, and what ``delivery`` contradicts, in one group's settings
    (``at``: the group's path, ``("consumer_groups", i)``)."""
    out: list[Finding] = []
    if group.group_protocol == "classic":
        out.extend(_classic_session(group, at, config))
        if _changed(group, "group_remote_assignor"):
            # ConsumerConfig.checkGroupRemoteAssignor / CLASSIC_PROTOCOL_UNSUPPORTED_CONFIGS
            out.append(error((*at, "group.remote.assignor"),
                             "group.remote.assignor cannot be set when group.protocol=CLASSIC: the consumer "
                             "refuses it (ConfigException)",
                             "a classic group's members assign: partition.assignment.strategy"))
    else:
        for name, key, instead in _CLASSIC_ONLY:
            if _changed(group, name):
                out.append(error((*at, key), f"{key} cannot be set when group.protocol=CONSUMER: the consumer "
                                 "refuses it (ConfigException)", instead))
    out.extend(_delivery_settings(group, at))
    return out


def _changed(group: ConsumerGroupSpec, name: str) -> bool:
    """Whether the file sets ``name`` to other than its default. Kafka refuses a setting
    the protocol does not use whatever its value, but ``check --resolved`` writes every
    default, and its output must load back: a default written out is let through."""
    return name in group.model_fields_set and getattr(group, name) != type(group).model_fields[name].default


def _classic_session(group: ConsumerGroupSpec, at: tuple, config: BrokerConfig) -> list[Finding]:
    out = []
    if group.heartbeat_interval >= group.session_timeout:
        # the classic consumer's Heartbeat constructor: IllegalArgumentException
        out.append(error((*at, "heartbeat.interval.ms"),
                         f"heartbeat.interval.ms ({format_duration(group.heartbeat_interval)}) must be lower than "
                         f"session.timeout.ms ({format_duration(group.session_timeout)}): the consumer refuses to "
                         "start (\"Heartbeat must be set lower than the session timeout\")",
                         "Kafka advises no more than a third of session.timeout.ms"))
    low, high = config.group_min_session_timeout, config.group_max_session_timeout
    if not low <= group.session_timeout <= high:
        # the coordinator's JoinGroup (GroupMetadataManager.classicGroupJoin): bounds inclusive
        out.append(error((*at, "session.timeout.ms"),
                         f"session.timeout.ms ({format_duration(group.session_timeout)}) is outside the broker's "
                         f"group.min/max.session.timeout.ms ({format_duration(low)} .. {format_duration(high)}): "
                         "JoinGroup fails with INVALID_SESSION_TIMEOUT",
                         "use a session.timeout.ms within the bounds, or change them in cluster.config"))
    return out


def _delivery_settings(group: ConsumerGroupSpec, at: tuple) -> list[Finding]:
    out = []
    explicit = group.model_fields_set
    if group.delivery == "exactly-once":
        if "isolation_level" in explicit and group.isolation_level == "read_uncommitted":
            out.append(error((*at, "isolation.level"),
                             "delivery exactly-once reads with isolation.level read_committed: read_uncommitted "
                             "passes on records of transactions that later abort",
                             "remove isolation.level (exactly-once sets read_committed) or write read_committed"))
        if "enable_auto_commit" in explicit and group.enable_auto_commit:
            out.append(warning((*at, "enable.auto.commit"),
                               "delivery exactly-once commits the offsets in the transaction "
                               "(sendOffsetsToTransaction); enable.auto.commit true would also commit them "
                               "outside it, which Kafka Streams forbids (it forces false)",
                               "remove enable.auto.commit (exactly-once leaves it false)"))
    elif _changed(group, "commit_interval"):
        out.append(warning((*at, "commit.interval.ms"),
                           f"ignored: commit.interval.ms is how often an exactly-once application commits its "
                           f"transaction, and this group's delivery is {group.delivery}",
                           "at-least-once commits follow enable.auto.commit / auto.commit.interval.ms"))
    return out


def group_coordinator_findings(config: BrokerConfig) -> list[Finding]:
    """The brokers' KIP-848 coordinator settings, checked as ``GroupCoordinatorConfig``
    checks them when a broker starts (it refuses to start otherwise)."""
    heartbeat = ("group.consumer.heartbeat.interval.ms", config.group_consumer_heartbeat_interval)
    min_heartbeat = ("group.consumer.min.heartbeat.interval.ms", config.group_consumer_min_heartbeat_interval)
    max_heartbeat = ("group.consumer.max.heartbeat.interval.ms", config.group_consumer_max_heartbeat_interval)
    session = ("group.consumer.session.timeout.ms", config.group_consumer_session_timeout)
    min_session = ("group.consumer.min.session.timeout.ms", config.group_consumer_min_session_timeout)
    max_session = ("group.consumer.max.session.timeout.ms", config.group_consumer_max_session_timeout)
    # (setting, relation, other): GroupCoordinatorConfig's require(...) checks, in its order
    rules = (
        (max_heartbeat, ">=", min_heartbeat),
        (heartbeat, ">=", min_heartbeat),
        (heartbeat, "<=", max_heartbeat),
        (max_session, ">=", min_session),
        (session, ">=", min_session),
        (session, "<=", max_session),
        (heartbeat, "<", session),
    )
    words = {">=": "greater than or equal to", "<=": "less than or equal to", "<": "less than"}
    holds = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}
    out = []
    for (key, value), relation, (other, limit) in rules:
        if not holds[relation](value, limit):
            out.append(error(("cluster", "config", key),
                             f"{key} ({format_duration(value)}) must be {words[relation]} {other} "
                             f"({format_duration(limit)}): the broker refuses to start"))
    return out


# ---- membership faults ---------------------------------------------------------------------


def membership_fault_findings(s: Scenario) -> list[Finding]:
    """Membership faults naming a group or member that does not exist at their time."""
    groups = {g.group_id: g for g in s.consumer_groups}
    out: list[Finding] = []
    known: list[tuple[int, Any]] = []
    for i, f in enumerate(s.faults):
        if f.type not in GROUP_FAULT_TYPES:
            continue
        if f.group in groups:
            known.append((i, f))
        else:
            out.append(error(("faults", i, "group"), f"group {f.group!r} is not defined",
                             closest(f.group, list(groups))))
    joins = [(i, f) for i, f in known if f.type == "consumer_join"]
    out.extend(_too_many_joiners(joins, groups))
    out.extend(_members_named(known, joins, groups))
    for i, f in known:
        group = groups[f.group]
        if f.type == "consumer_slow" and group.processing_time_per_record == 0:
            out.append(warning(("faults", i, "factor"),
                               f"group {f.group!r} spends no time per record (processing_time_per_record 0): "
                               "slowing its processing changes nothing",
                               "give the group a processing_time_per_record"))
        elif f.type == "rolling_restart":
            out.extend(_restart_outlasts_run(i, f, members_at(group, joins, f.at), s.run.duration))
    return out


def members_at(group: ConsumerGroupSpec, joins: Sequence[tuple[int, Any]], t: float) -> int:
    """How many members ``group`` has had by time ``t``: its ``members`` plus those of its
    ``consumer_join`` faults with an earlier ``at`` (members that left still count: a
    joiner's index follows every index used before)."""
    return group.members + sum(f.count for _, f in joins if f.group == group.group_id and f.at < t)


def _too_many_joiners(joins: list[tuple[int, Any]], groups: dict[str, ConsumerGroupSpec]) -> list[Finding]:
    out = []
    total = {name: g.members for name, g in groups.items()}
    for i, f in sorted(joins, key=lambda item: (item[1].at, item[0])):
        total[f.group] += f.count
        if total[f.group] > MAX_CLIENTS:
            out.append(error(("faults", i, "count"),
                             f"group {f.group!r} would have {total[f.group]:,} members: the simulator's limit is "
                             f"{MAX_CLIENTS:,} members per group", f"allowed: {MAX_CLIENTS:,} members in all"))
            total[f.group] -= f.count
    return out


def _members_named(known: list[tuple[int, Any]], joins: list[tuple[int, Any]],
                   groups: dict[str, ConsumerGroupSpec]) -> list[Finding]:
    """Each member fault names a member that exists, and has not left, at its time."""
    out = []
    gone: dict[tuple[str, int], str] = {}  # (group, member) -> how and when it went
    for i, f in sorted(known, key=lambda item: (item[1].at, item[0])):
        if f.type not in MEMBER_FAULT_TYPES:
            continue
        when = format_duration(f.at)
        count = members_at(groups[f.group], joins, f.at)
        if f.member >= count:
            out.append(error(("faults", i, "member"),
                             f"group {f.group!r} has {count} member(s) at {when}, numbered from 0: "
                             f"there is no member {f.member}",
                             "members are the group's `members` plus those of consumer_join faults before then"))
            continue
        if (f.group, f.member) in gone:
            out.append(error(("faults", i, "member"),
                             f"member {f.member} of group {f.group!r} is gone by {when}: {gone[(f.group, f.member)]}"))
            continue
        if f.type == "consumer_leave":
            gone[(f.group, f.member)] = f"it left at {when}"
        elif f.type == "consumer_crash" and f.restart_after is None:
            gone[(f.group, f.member)] = f"it crashed at {when} with no restart_after"
    return out


def _restart_outlasts_run(index: int, f: Any, members: int, duration: float) -> list[Finding]:
    end = f.at + f.pace * (members - 1) + f.downtime
    if end <= duration:
        return []
    return [warning(("faults", index, "pace"),
                    f"restarting the {members} members of group {f.group!r} one every {format_duration(f.pace)} "
                    f"takes until {format_duration(end)}, after the run ends ({format_duration(duration)}): "
                    "the last members are not restarted",
                    "a shorter pace, an earlier at or a longer run.duration")]
