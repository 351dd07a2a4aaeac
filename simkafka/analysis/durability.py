"""The durability matrix: a scenario's fault schedule replayed over the four settings that
decide what a broker failure costs -- the producers' ``acks`` and ``enable.idempotence``,
the topics' ``min.insync.replicas`` and ``unclean.leader.election.enable``.

Each cell is the scenario with every producer and every topic set to the cell's values,
written into the scenario as the user wrote it and validated again by the scenario's own
models and contradiction checks (as a sweep's point and a planner's candidate are). A cell
the checks refuse is a configuration Kafka refuses, and is shown with the reason, never
run: ``enable.idempotence=true`` set explicitly with ``acks`` other than ``all`` is
KafkaProducer's ``ConfigException`` ("Must set acks to all in order to use the idempotent
producer", ``ProducerConfig`` since Kafka 3.0), and ``min.insync.replicas`` above a topic's
replication factor is refused by the scenario.

Every cell runs on the events engine -- the only one that plays control-plane faults --
whatever ``run.engine`` the scenario names, and with the scenario's own ``run.seed``: the
cells differ in their settings only, not in their random draws, so a difference between
two cells is the settings' doing (and the cell with the scenario's own settings is what
``simkafka run`` reports for it). The cells run on any executor
(:mod:`simkafka.analysis.executors`); the matrix is the same whichever ran them.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from simkafka.analysis.candidates import CandidateError, validated_scenario
from simkafka.analysis.grid import Point
from simkafka.analysis.sweep import Executor, SweepError, scalar_summary, sweep_points
from simkafka.scenario import Scenario

__all__ = [
    "ACKS",
    "BROKER_FAULT_TYPES",
    "DEFAULT_MIN_INSYNC_REPLICAS",
    "METRICS",
    "READABLE_METRICS",
    "SETTINGS",
    "DurabilityAxes",
    "DurabilityCell",
    "DurabilityError",
    "DurabilityMatrix",
    "broker_faults",
    "default_axes",
    "durability_cells",
    "durability_matrix",
    "parse_axis",
    "run_cell",
    "short_reason",
]

#: The four settings, by Kafka's config names, in the order the matrix varies them
#: (the first slowest).
SETTINGS = ("acks", "enable.idempotence", "min.insync.replicas", "unclean.leader.election.enable")
#: Every value of ``acks`` (Kafka accepts -1 for all)
ACKS = ("0", "1", "all")
#: The default ``min.insync.replicas`` axis: 1 (Kafka's default) and 2 (the usual choice
#: with RF 3); values above every topic's replication factor are left out.
DEFAULT_MIN_INSYNC_REPLICAS = (1, 2)
#: What the matrix reports per cell (the run summary's keys)
METRICS = (
    "acknowledged_lost",
    "written_twice",
    "reordered",
    "consumed_twice",
    "failed_messages",
    "no_leader_partition_s",
    "under_min_isr_partition_s",
    "produce_msgs_per_s",
    "delivery_ok",
)
#: The faults these settings answer to: a broker or the controller lost, or cut off. A
#: consumer crash re-reads records whatever the producer and topic settings are, and a
#: slow disk or NIC moves no leader, so neither is something the matrix can vary.
BROKER_FAULT_TYPES = frozenset(
    {"broker_crash", "broker_shutdown", "broker_restart", "rack_failure", "controller_failover", "network_partition"}
)

ProgressCallback = Callable[[int, int], None]  # (cells finished, cells to run)


class DurabilityError(ValueError):
    """A matrix that cannot be made: a bad axis value, nothing to replay, a cell the engine refuses."""


@dataclass(frozen=True)
class DurabilityAxes:
    """The values each setting takes, in the matrix's order."""

    acks: tuple[str, ...] = ACKS
    idempotence: tuple[bool, ...] = (False, True)
    min_insync_replicas: tuple[int, ...] = DEFAULT_MIN_INSYNC_REPLICAS
    unclean: tuple[bool, ...] = (False, True)

    def narrowed(self, values: Mapping[str, tuple]) -> DurabilityAxes:
        """These axes with the settings named in ``values`` (Kafka's names, :data:`SETTINGS`)
        replaced by the values given."""
        fields = dict(zip(SETTINGS, ("acks", "idempotence", "min_insync_replicas", "unclean"), strict=True))
        unknown = [s for s in values if s not in fields]
        if unknown:
            raise DurabilityError(f"unknown setting {unknown[0]!r}: one of {', '.join(SETTINGS)}")
        return replace(self, **{fields[setting]: tuple(v) for setting, v in values.items()})

    def combinations(self) -> list[tuple[str, bool, int, bool]]:
        return list(itertools.product(self.acks, self.idempotence, self.min_insync_replicas, self.unclean))

    def to_dict(self) -> dict[str, list]:
        return dict(zip(SETTINGS, (list(self.acks), list(self.idempotence), list(self.min_insync_replicas),
                                   list(self.unclean)), strict=True))


@dataclass(frozen=True)
class DurabilityCell:
    """One combination: its settings, and its validated scenario or why Kafka refuses it."""

    acks: str
    idempotence: bool
    min_insync_replicas: int
    unclean: bool
    scenario: Scenario | None = field(repr=False)
    why_impossible: str = ""

    @property
    def settings(self) -> dict[str, Any]:
        return dict(zip(SETTINGS, (self.acks, self.idempotence, self.min_insync_replicas, self.unclean), strict=True))


def default_axes(scenario: Scenario) -> DurabilityAxes:
    """Every ``acks``, idempotence off and on, unclean election off and on, and
    ``min.insync.replicas`` 1 and 2 up to the largest replication factor of the topics."""
    largest = max(t.replication_factor for t in scenario.topics)
    return DurabilityAxes(min_insync_replicas=tuple(v for v in DEFAULT_MIN_INSYNC_REPLICAS if v <= largest))


_BOOLEANS = {"true": True, "false": False, "on": True, "off": False, "yes": True, "no": False}


def parse_axis(setting: str, text: str) -> tuple:
    """A comma list of values of ``setting`` (one of :data:`SETTINGS`), in order, or
    :class:`DurabilityError` saying what the setting accepts."""
    tokens = [t.strip().lower() for t in text.split(",")]
    if not text.strip() or any(not t for t in tokens):
        raise DurabilityError(f"{setting}: an empty value in {text!r}; give a comma list, e.g. {_example(setting)}")
    values: list[Any] = []
    for token in tokens:
        if setting == "acks":
            value: Any = "all" if token == "-1" else token
            if value not in ACKS:
                raise DurabilityError(f"{setting}: {token!r} is not a value of acks (0, 1, all or -1)")
        elif setting == "min.insync.replicas":
            if not token.isdigit() or int(token) < 1:
                raise DurabilityError(f"{setting}: {token!r} is not a whole number of replicas (1 or more)")
            value = int(token)
        elif setting in ("enable.idempotence", "unclean.leader.election.enable"):
            if token not in _BOOLEANS:
                raise DurabilityError(f"{setting}: {token!r} is not true or false")
            value = _BOOLEANS[token]
        else:
            raise DurabilityError(f"unknown setting {setting!r}: one of {', '.join(SETTINGS)}")
        if value in values:
            raise DurabilityError(f"{setting}: {token!r} is given twice")
        values.append(value)
    return tuple(values)


def _example(setting: str) -> str:
    return {"acks": "1,all", "min.insync.replicas": "1,2"}.get(setting, "false,true")


def broker_faults(scenario: Scenario) -> list[str]:
    """The scenario's faults the four settings answer to (:data:`BROKER_FAULT_TYPES`), each
    as ``type at Ns``; :class:`DurabilityError` when it has none -- there is nothing to
    replay, and every cell would lose nothing and wait for nothing."""
    replayed = [f"{f.type} at {f.at:g}s" for f in scenario.faults if f.type in BROKER_FAULT_TYPES]
    if not replayed:
        others = sorted({f.type for f in scenario.faults})
        having = f" (it has only {', '.join(others)}, which move no leader)" if others else ""
        raise DurabilityError(
            f"scenario {scenario.name!r} has no broker or controller fault to replay{having}: every cell "
            "of the matrix would lose nothing and wait for nothing; add a faults: entry such as "
            "{type: broker_crash, at: 5s, broker: 0}"
        )
    return replayed


def durability_cells(scenario: Scenario, axes: DurabilityAxes | None = None) -> list[DurabilityCell]:
    """Every cell of ``axes`` (default :func:`default_axes`), in order: the scenario with
    the cell's settings on every producer and topic, on the events engine, validated --
    or, for a combination the scenario's checks refuse, the reason and no scenario."""
    axes = axes or default_axes(scenario)
    written = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    cells = []
    for acks, idempotence, min_isr, unclean in axes.combinations():
        data = _with_settings(written, acks, idempotence, min_isr, unclean)
        try:
            cells.append(DurabilityCell(acks, idempotence, min_isr, unclean, validated_scenario(data)))
        except CandidateError as exc:
            cells.append(DurabilityCell(acks, idempotence, min_isr, unclean, None, str(exc)))
    return cells


def _with_settings(written: dict, acks: str, idempotence: bool, min_isr: int, unclean: bool) -> dict:
    data = {**written, "run": {**written.get("run", {}), "engine": "events"}}
    data["producers"] = [{**p, "acks": acks, "enable.idempotence": idempotence} for p in written.get("producers", [])]
    data["topics"] = [
        {**t, "min.insync.replicas": min_isr, "unclean.leader.election.enable": unclean}
        for t in written.get("topics", [])
    ]
    return data


def run_cell(scenario_json: str) -> dict[str, Any]:
    """Simulate one cell given as its scenario's JSON text (validated again here, as every
    executor's worker does); the summary's scalar fields."""
    from simkafka.sim.engine import simulate

    scenario = Scenario.model_validate_json(scenario_json)
    return scalar_summary(simulate(scenario).summary)


@dataclass(frozen=True)
class DurabilityMatrix:
    """The matrix: one row per cell (:data:`SETTINGS`, ``valid``, ``why_not``, then
    :data:`METRICS`; an impossible cell's metrics are missing), and what was replayed."""

    scenario: str
    seed: int
    faults: tuple[str, ...]
    axes: DurabilityAxes
    frame: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def runs(self) -> int:
        return int(self.frame["valid"].sum())

    def cell(self, acks: str, idempotence: bool, min_insync_replicas: int, unclean: bool) -> pd.Series:
        """The row of one cell."""
        f = self.frame
        hit = f[(f["acks"] == acks) & (f["enable.idempotence"] == idempotence)
                & (f["min.insync.replicas"] == min_insync_replicas) & (f["unclean.leader.election.enable"] == unclean)]
        if len(hit) != 1:
            raise KeyError(f"no cell acks={acks} idempotence={idempotence} min ISR {min_insync_replicas} "
                           f"unclean={unclean} in this matrix")
        return hit.iloc[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: missing values as ``None``."""
        cells = [{k: _plain(v) for k, v in row.items()} for row in self.frame.to_dict(orient="records")]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "engine": "events",
            "faults": list(self.faults),
            "axes": self.axes.to_dict(),
            "notes": list(self.notes),
            "cells": cells,
        }

    def readable(self) -> pd.DataFrame:
        """The frame as a person reads it, every value as text: one line per cell, an
        impossible cell with a dash for each figure and the reason Kafka refuses it."""
        rows = []
        for row in self.frame.to_dict(orient="records"):
            out = {
                "acks": row["acks"],
                "idempotence": _on_off(row["enable.idempotence"]),
                "min ISR": str(row["min.insync.replicas"]),
                "unclean": _on_off(row["unclean.leader.election.enable"]),
            }
            valid = row["valid"]
            for label, metric, shown in READABLE_METRICS:
                out[label] = shown(row[metric]) if valid else "-"
            out["impossible because"] = "" if valid else short_reason(row["why_not"])
            rows.append(out)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        head = (f"<DurabilityMatrix {self.scenario} (seed {self.seed}): {len(self.frame)} cells, "
                f"{self.runs} run; faults: {', '.join(self.faults)}>")
        return head + "\n" + self.readable().to_string(index=False)

    def _repr_html_(self) -> str:
        from html import escape

        head = (f"<p><b>DurabilityMatrix {escape(self.scenario)}</b> (seed {self.seed}): {len(self.frame)} cells, "
                f"{self.runs} run; faults: {escape(', '.join(self.faults))}</p>")
        return head + self.readable().to_html(index=False)


#: The readable table's columns: label, metric, how a value is shown
READABLE_METRICS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("lost", "acknowledged_lost", lambda v: f"{int(v):,}"),
    ("written twice", "written_twice", lambda v: f"{int(v):,}"),
    ("reordered", "reordered", lambda v: f"{int(v):,}"),
    ("failed", "failed_messages", lambda v: f"{int(v):,}"),
    ("no leader (partition-s)", "no_leader_partition_s", lambda v: f"{v:,.1f}"),
    ("under min ISR (partition-s)", "under_min_isr_partition_s", lambda v: f"{v:,.1f}"),
    ("msgs/s", "produce_msgs_per_s", lambda v: f"{v:,.0f}"),
)


def short_reason(why: str) -> str:
    """A refusal without the field path it names (``producers.0.acks: Must set ...``): the
    path is the same for every cell of the matrix, the reason is what differs."""
    parts = [re.sub(r"^[\w.]+: ", "", part) for part in why.split("; ")]
    return "; ".join(dict.fromkeys(parts))  # two producers refused for one reason: said once


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def durability_matrix(
    scenario: Scenario,
    axes: DurabilityAxes | None = None,
    *,
    executor: Executor = "pool",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
) -> DurabilityMatrix:
    """Replay ``scenario``'s faults over every cell of ``axes`` (default
    :func:`default_axes`) and return the :class:`DurabilityMatrix`.

    Raises :class:`DurabilityError` before anything runs when the scenario has no fault
    the settings answer to (:data:`BROKER_FAULT_TYPES`: every cell would lose nothing and
    wait for nothing), when an axis is empty, or when the engine would refuse a cell; and
    for a bad executor.
    """
    replayed = broker_faults(scenario)
    axes = axes or default_axes(scenario)
    for setting, values in zip(SETTINGS, (axes.acks, axes.idempotence, axes.min_insync_replicas, axes.unclean),
                               strict=True):
        if not values:
            raise DurabilityError(f"{setting}: no values to replay")
    cells = durability_cells(scenario, axes)
    runnable = [c for c in cells if c.scenario is not None]
    points = [Point(c.settings, c.scenario) for c in runnable]  # type: ignore[arg-type]
    try:
        frame = sweep_points(points, executor=executor, workers=workers, scheduler=scheduler, progress=progress,
                             run=run_cell)
    except SweepError as exc:
        raise DurabilityError(str(exc)) from None
    notes = []
    if scenario.run.engine != "events":
        notes.append(f"the scenario's run.engine is {scenario.run.engine}: every cell runs on the events engine, "
                     "the only one that plays broker and controller faults")
    return DurabilityMatrix(scenario.name, scenario.seed, tuple(replayed), axes, _matrix_frame(cells, frame),
                            tuple(notes))


def _matrix_frame(cells: Sequence[DurabilityCell], runs: pd.DataFrame) -> pd.DataFrame:
    results = iter(runs.to_dict(orient="records"))
    rows = []
    for c in cells:
        row: dict[str, Any] = {**c.settings, "valid": c.scenario is not None, "why_not": c.why_impossible}
        summary = next(results) if c.scenario is not None else {}
        for metric in METRICS:
            row[metric] = summary.get(metric)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for metric in ("acknowledged_lost", "written_twice", "reordered", "consumed_twice", "failed_messages"):
        frame[metric] = frame[metric].astype("Int64")
    for metric in ("no_leader_partition_s", "under_min_isr_partition_s", "produce_msgs_per_s"):
        frame[metric] = frame[metric].astype("float64")
    frame["delivery_ok"] = frame["delivery_ok"].astype("boolean")
    return frame
