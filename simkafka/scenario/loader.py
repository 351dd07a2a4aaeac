"""YAML -> validated :class:`Scenario`, or one :class:`ScenarioError` naming file, line and field.

The file is read, bounded, by :mod:`simkafka.scenario.reading` (safe YAML, every value
with the line it came from); pydantic's error locations and our own contradiction checks
are then mapped back to those lines.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, get_args

from pydantic import BaseModel, ValidationError

from simkafka.scenario.checks import find_contradictions
from simkafka.scenario.errors import PathElement, Problem, ScenarioError
from simkafka.scenario.model import Scenario
from simkafka.scenario.reading import Positions, read_scenario_text, read_yaml_with_positions

__all__ = [
    "Positions", "allowed_keys", "load_scenario", "load_scenario_with_warnings", "parse_scenario",
    "parse_scenario_with_warnings", "position_of", "problems_from_validation", "read_yaml_with_positions",
]


def position_of(path: Sequence[PathElement], positions: Positions) -> tuple[int | None, int | None]:
    """The position of ``path`` or of its nearest ancestor present in the file."""
    path = tuple(path)
    while path:
        if path in positions:
            return positions[path]
        path = path[:-1]
    return positions.get((), (None, None))


# ---- pydantic errors -> problems ------------------------------------------------------


def _data_path(loc: Sequence[PathElement], data: Any) -> tuple[PathElement, ...]:
    """Drop the union-tag and model-name elements pydantic adds to locations.

    ``('faults', 0, 'broker_crash', 'broker')`` becomes ``('faults', 0, 'broker')``. An
    element absent from the data is kept only when it is the last one (a missing or an
    unexpected key), so that the message still names it.
    """
    out: list[PathElement] = []
    current = data
    for i, element in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(current, Mapping) and element in current:
            out.append(element)
            current = current[element]
        elif isinstance(current, list) and isinstance(element, int) and 0 <= element < len(current):
            out.append(element)
            current = current[element]
        elif last:
            out.append(element)
    return tuple(out)


def _model_at(path: Sequence[PathElement], data: Any) -> type[BaseModel] | None:
    """The pydantic model that holds the mapping at ``path`` (for close-match hints).

    For a discriminated union (faults) the member is chosen by the ``type`` written there.
    """
    candidates: list[type[BaseModel]] = [Scenario]
    current = data
    for element in path:
        try:
            current = current[element]
        except (KeyError, IndexError, TypeError):
            current = None
        if isinstance(element, int):
            continue
        model = _pick(candidates, None)
        field = next((info for name, info in model.model_fields.items() if (info.alias or name) == element), None)
        if field is None:
            return None
        candidates = _models_in(field.annotation)
        if not candidates:
            return None
    return _pick(candidates, current)


def _pick(candidates: list[type[BaseModel]], mapping: Any) -> type[BaseModel]:
    written_type = mapping.get("type") if isinstance(mapping, Mapping) else None
    for candidate in candidates:
        type_field = candidate.model_fields.get("type")
        if type_field is not None and written_type in get_args(type_field.annotation):
            return candidate
    return candidates[0]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found


def allowed_keys(model: type[BaseModel]) -> list[str]:
    # a field left out of the dump is read from another form, not written by its name (an
    # uncertain rate or message size, `{normal: 500MB/s, sd: 10%}`)
    return [info.alias or name for name, info in model.model_fields.items() if not info.exclude]


def _hint_for(error: dict, path: tuple[PathElement, ...], data: Any) -> str | None:
    kind = error["type"]
    given = error.get("ctx", {}).get("hint")
    if given:  # raised by a field type that knows its unit (quantities.out_of_range)
        return str(given)
    if kind == "extra_forbidden" and path and isinstance(path[-1], str):
        model = _model_at(path[:-1], data)
        if model is None:
            return None
        keys = allowed_keys(model)
        close = difflib.get_close_matches(path[-1], keys, n=1, cutoff=0.6)
        if close:
            return f"did you mean '{close[0]}'?"
        return "valid keys here: " + ", ".join(keys)
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        tag = str(ctx.get("tag", ""))
        expected = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        close = difflib.get_close_matches(tag, expected, n=1, cutoff=0.6)
        return f"did you mean '{close[0]}'?" if close else "one of: " + ", ".join(expected)
    if kind == "literal_error":
        ctx = error.get("ctx", {})
        expected = str(ctx.get("expected", ""))
        given = error.get("input")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        if isinstance(given, str):
            close = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
            if close:
                return f"did you mean '{close[0]}'?"
        return None
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        ctx = error.get("ctx", {})
        bounds = {"greater_than": "> {gt}", "greater_than_equal": ">= {ge}",
                  "less_than": "< {lt}", "less_than_equal": "<= {le}"}[kind]
        return "allowed range: " + bounds.format(**{k: ctx.get(k) for k in ("gt", "ge", "lt", "le")})
    return None


def _written_value(path: Sequence[PathElement], data: Any) -> Any:
    current = data
    for element in path:
        if isinstance(current, Mapping) and element in current:
            current = current[element]
        elif isinstance(current, list) and isinstance(element, int) and 0 <= element < len(current):
            current = current[element]
        else:
            return None
    return current


_MAX_SHOWN = 60  # characters of a written value quoted in a message


def _message_for(error: dict, written: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = error["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    # show what the person wrote (``-5``), not what a unit parser turned it into
    if written is not None and not isinstance(written, (dict, list)):
        shown = repr(written)
        if len(shown) > _MAX_SHOWN:
            shown = shown[: _MAX_SHOWN - 4] + "...'"
        if shown not in msg:
            msg += f" (got {shown})"
    return msg


def problems_from_validation(exc: ValidationError, data: Any, positions: Positions, source: str) -> list[Problem]:
    problems = []
    errors = exc.errors(include_url=False)
    paths = [_data_path(error["loc"], data) for error in errors]
    for error, path in zip(errors, paths, strict=True):
        # pydantic also reports "too short" for a list whose only item failed: noise
        if error["type"] == "too_short" and any(len(o) > len(path) and o[: len(path)] == path for o in paths):
            continue
        line, col = position_of(path, positions)
        written = _written_value(path, data)
        message = _message_for(error, error.get("input") if written is None else written)
        problems.append(Problem(source, line, col, path, message, _hint_for(error, path, data)))
    return problems


# ---- entry points ---------------------------------------------------------------------


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text. Raises :class:`ScenarioError` listing every problem."""
    scenario, _warnings = parse_scenario_with_warnings(text, source)
    return scenario


def parse_scenario_with_warnings(
    text: str, source: str = "<scenario>", *, base_dir: str | Path | None = None
) -> tuple[Scenario, list[Problem]]:
    """Validate scenario YAML text; ``base_dir`` is where a ``costs:`` file name is looked
    up (default: the directory of ``source`` when it names a file, else the working one)."""
    data, positions = read_yaml_with_positions(text, source)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, 1, 1, (), "a scenario is a mapping of sections",
                                     "top-level keys: " + ", ".join(allowed_keys(Scenario)))])
    profile: _IncludedProfile | None = None
    if isinstance(data.get("costs"), str):
        if base_dir is None:
            base_dir = Path(source).parent if not source.startswith("<") else Path.cwd()
        profile = _read_cost_profile(data["costs"], Path(base_dir), source, positions)
        data = {**data, "costs": profile.data}
        positions = {**positions, **{("costs", *path): at for path, at in profile.positions.items()}}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, data, positions, source)
        problems = [_in_profile(p, profile) for p in problems]
        problems.sort(key=lambda p: (p.source != source, p.line or 0, p.column or 0))
        raise ScenarioError(problems) from None
    found = find_contradictions(scenario, data)
    errors, warnings = [], []
    for path, message, hint, is_warning in found:
        line, col = position_of(path, positions)
        problem = Problem(source, line, col, tuple(path), message, hint, warning=is_warning)
        problem = _in_profile(problem, profile)
        (warnings if is_warning else errors).append(problem)
    if errors:
        errors.sort(key=lambda p: (p.source != source, p.line or 0, p.column or 0))
        raise ScenarioError(errors)
    return scenario, warnings


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    scenario, _warnings = load_scenario_with_warnings(path)
    return scenario


def load_scenario_with_warnings(path: str | Path) -> tuple[Scenario, list[Problem]]:
    text = read_scenario_text(path)
    return parse_scenario_with_warnings(text, str(path), base_dir=Path(path).parent)


# ---- `costs: FILE`: a cost profile in a file of its own ----------------------------------


class _IncludedProfile(NamedTuple):
    source: str  # the profile file, as messages name it
    data: dict[str, Any]
    positions: Positions  # within the profile file


def _read_cost_profile(name: str, base_dir: Path, source: str, positions: Positions) -> _IncludedProfile:
    """The cost profile file a scenario's ``costs:`` names, read as a scenario is (bounded,
    safe YAML, positions). A file that cannot be read is the scenario's problem, at its
    ``costs:`` line; what is wrong inside the file is reported at the file's own lines."""
    path = base_dir / name
    profile_source = str(path)
    try:
        text = read_scenario_text(path, "cost profile file")
    except ScenarioError as exc:
        if any(p.line is not None for p in exc.problems):
            raise  # inside the file (not UTF-8 at line n): the file's problem
        line, col = position_of(("costs",), positions)
        raise ScenarioError([
            Problem(source, line, col, ("costs",), f"{profile_source}: {p.message}",
                    p.hint or "costs: names a profile file (simkafka calibrate -o FILE), "
                    "relative to the scenario file")
            for p in exc.problems
        ]) from None
    data, profile_positions = read_yaml_with_positions(text, profile_source)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(profile_source, 1, 1, (), "a cost profile is a mapping of sections",
                                     "sections: producer, broker, consumer, codecs (as simkafka calibrate writes)")])
    if "source" not in data:
        data = {**data, "source": f"{profile_source} over the shipped profile"}
    return _IncludedProfile(profile_source, data, profile_positions)


def _in_profile(problem: Problem, profile: _IncludedProfile | None) -> Problem:
    """A problem under ``costs`` moved to the profile file it comes from, its path there."""
    if profile is None or problem.path[:1] != ("costs",):
        return problem
    return dataclasses.replace(problem, source=profile.source, path=problem.path[1:])
