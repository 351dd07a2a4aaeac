"""A sweep's grid: ``--param PATH=VALUES`` texts -> one validated :class:`Scenario` per point.

``PATH`` walks the scenario as its YAML is written: sections and Kafka's dotted config names
(``topics.events.replication.factor``), and the list sections (``topics``, ``producers``,
``consumer_groups``, ``faults``) addressed by an element's name (``group.id`` for a group)
or its index. ``VALUES`` is ``a..b`` (inclusive integers) or a comma list; each value is read
as YAML reads it in the file, set into the scenario as the user wrote it, and the whole point
is validated by the scenario's own models and contradiction checks, so a bad value gets the
scenario's own message, with the ``--param`` that gave it as its source.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from simkafka.scenario import Problem, Scenario, ScenarioError
from simkafka.scenario.checks import find_contradictions
from simkafka.scenario.loader import problems_from_validation

__all__ = ["MAX_POINTS", "GridError", "Param", "Point", "expand_grid", "parse_param", "point_seed"]

# a grid larger than this is a typo (3..100000), not a sweep anyone can wait for
MAX_POINTS = 100_000
# INT64_MAX: the largest run.seed a scenario accepts
_SEED_MASK = (1 << 63) - 1
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")
# list sections: the key that names an element
_NAMED_BY = {"topics": "name", "producers": "name", "consumer_groups": "group.id", "faults": "name"}


class GridError(ValueError):
    """A ``--param`` that cannot be used; the message names it."""


@dataclass(frozen=True)
class Param:
    """One ``--param``: the text given, the path as written and the concrete path into the
    scenario's data, and its values in order."""

    text: str
    name: str
    path: tuple[str | int, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Point:
    """One point of the grid: its parameters (name -> value as given) and its scenario,
    whose ``run.seed`` is the point's own (:func:`point_seed`)."""

    params: dict[str, Any]
    scenario: Scenario
    warnings: tuple[Problem, ...] = ()  # what `simkafka check` would warn of at this point


def point_seed(base_seed: int, params: Mapping[str, Any]) -> int:
    """The seed of the point ``params`` of a sweep of a scenario seeded ``base_seed``.

    A SHA-256 of the base seed and the parameters (canonical JSON, keys sorted), not
    Python's ``hash()`` (salted per process): the same point gets the same seed in every
    process, executor and order, and two points get independent random streams.
    """
    text = json.dumps([base_seed, dict(sorted(params.items()))], sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & _SEED_MASK


def parse_param(scenario: Scenario, text: str) -> Param:
    """``PATH=VALUES`` -> :class:`Param`, or :class:`GridError` naming ``--param text``."""
    where = f"--param {text}"
    name, sep, values_text = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise GridError(f"{where}: expected PATH=VALUES, e.g. cluster.brokers=3..12")
    path = _resolve(scenario.model_dump(mode="json", by_alias=True), name, where)
    return Param(text, name, path, _values(values_text, where))


def expand_grid(scenario: Scenario, params: Sequence[str | Param]) -> list[Point]:
    """Every combination of ``params`` (``PATH=VALUES`` texts), the first varying slowest,
    each a validated :class:`Scenario` with its own seed.

    Raises :class:`GridError` for a bad path, an empty range, a repeated path or a grid of
    more than :data:`MAX_POINTS` points, and for a value the scenario refuses (its own
    message, from the point's ``--param`` values).
    """
    parsed = [p if isinstance(p, Param) else parse_param(scenario, p) for p in params]
    seen: dict[tuple, str] = {}
    for p in parsed:
        if p.path in seen:
            raise GridError(f"--param {p.text}: the same setting as --param {seen[p.path]}")
        seen[p.path] = p.text
    size = 1
    for p in parsed:
        size *= len(p.values)
    if size > MAX_POINTS:
        raise GridError(f"the grid has {size:,} points (at most {MAX_POINTS:,}); sweep fewer values")
    # the scenario as written (defaults left unset), so that what depends on a swept value
    # (brokers dealt over the racks, defaults) is derived again for each point
    written = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    seeds_swept = any(p.path == ("run", "seed") for p in parsed)
    points = []
    for values in itertools.product(*(p.values for p in parsed)):
        point_params = {p.name: v for p, v in zip(parsed, values, strict=True)}
        data = json.loads(json.dumps(written))  # a deep copy of plain JSON data
        for p, value in zip(parsed, values, strict=True):
            _set(data, p.path, value)
            if p.path == ("cluster", "brokers") and isinstance(value, int):
                _deal_over_written_racks(data["cluster"], written["cluster"])
        if not seeds_swept:
            data.setdefault("run", {})["seed"] = point_seed(scenario.seed, point_params)
        source = " ".join(f"--param {p.name}={v}" for p, v in zip(parsed, values, strict=True))
        points.append(Point(point_params, *_validate(data, source or "(the scenario)")))
    return points


def _validate(data: dict, source: str) -> tuple[Scenario, tuple[Problem, ...]]:
    """The point's scenario, judged as the loader judges a file; its errors name the point."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, data, {}, source)
        raise GridError(str(ScenarioError(problems))) from None
    findings = [
        Problem(source, None, None, tuple(path), message, hint, warning=is_warning)
        for path, message, hint, is_warning in find_contradictions(scenario, data)
    ]
    errors = [p for p in findings if not p.warning]
    if errors:
        raise GridError(str(ScenarioError(errors)))
    return scenario, tuple(p for p in findings if p.warning)


def _values(text: str, where: str) -> tuple[Any, ...]:
    if not text.strip():
        raise GridError(f"{where}: no values after '='; give a..b or a comma list")
    match = _RANGE.match(text)
    if match:
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise GridError(f"{where}: the range {low}..{high} is empty (a..b needs a <= b)")
        if high - low + 1 > MAX_POINTS:
            raise GridError(f"{where}: the range has {high - low + 1:,} values (at most {MAX_POINTS:,})")
        return tuple(range(low, high + 1))
    if ".." in text:
        raise GridError(f"{where}: a range is a..b with two integers, e.g. 3..12")
    tokens = [t.strip() for t in text.split(",")]
    if any(not t for t in tokens):
        raise GridError(f"{where}: an empty value in the list; values are separated by single commas")
    values = tuple(_scalar(t) for t in tokens)
    if len(set(map(repr, values))) != len(values):
        raise GridError(f"{where}: a value is repeated")
    return values


def _scalar(token: str) -> Any:
    """A value as YAML reads it in the scenario file (``12`` an int, ``100MB/s`` text)."""
    try:
        value = yaml.safe_load(token)
    except yaml.YAMLError:
        return token
    return value if isinstance(value, (str, int, float, bool)) else token


def _resolve(data: Any, name: str, where: str) -> tuple[str | int, ...]:
    """The concrete path (keys and list indices) that the dotted ``name`` means in ``data``
    (the scenario with every default). Keys may hold dots themselves (``linger.ms``), and so
    may element names: the longest match wins."""
    parts = name.split(".")
    path: list[str | int] = []
    current = data
    i = 0
    while i < len(parts):
        shown = ".".join(parts[:i]) or "the scenario"
        if isinstance(current, Mapping):
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in current:
                    break
            else:
                close = difflib.get_close_matches(parts[i], list(current), n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else f"; keys there: {', '.join(current)}"
                raise GridError(f"{where}: {shown} has no key '{parts[i]}'{hint}")
            path.append(key)
            current = current[key]
            i = j
        elif isinstance(current, list):
            section = path[0] if path else ""
            named_by = _NAMED_BY.get(str(section), "name")
            names = [e.get(named_by) if isinstance(e, Mapping) else None for e in current]
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in names:
                    index = names.index(key)
                    break
            else:
                if parts[i].isdigit() and int(parts[i]) < len(current):
                    index, j = int(parts[i]), i + 1
                else:
                    listed = ", ".join(str(n) for n in names if n is not None) or "none named"
                    raise GridError(
                        f"{where}: {shown} has no element named '{parts[i]}' ({listed}; or an index "
                        f"0..{len(current) - 1})"
                    )
            path.append(index)
            current = current[index]
            i = j
        else:
            raise GridError(f"{where}: {shown} is a single value, it has no '{parts[i]}'")
    if isinstance(current, Mapping) or (isinstance(current, list) and path[-1:] != ["brokers"]):
        raise GridError(f"{where}: {name} is a section, not a setting; name one of its keys")
    return tuple(path)


def _deal_over_written_racks(cluster: dict, written: dict) -> None:
    """A broker count swept over an explicit broker list: the racks the list named (in
    order) are kept and the brokers dealt over them, as ``brokers: N`` with ``racks:``
    does -- not silently dropped."""
    brokers = written.get("brokers")
    if not isinstance(brokers, list) or "racks" in written:
        return
    racks: list[str] = []
    for broker in brokers:
        rack = broker.get("rack") if isinstance(broker, Mapping) else None
        if rack is not None and rack not in racks:
            racks.append(rack)
    if racks:
        cluster["racks"] = racks


def _set(data: dict, path: tuple[str | int, ...], value: Any) -> None:
    """Set ``value`` at ``path`` in the scenario as written, making the sections it left
    to their defaults."""
    current: Any = data
    for element in path[:-1]:
        if isinstance(element, int):
            current = current[element]
        else:
            current = current.setdefault(element, {})
    current[path[-1]] = value
