"""The scenario's JSON Schema, for editors: standard keywords, valid JSON, defaults as a person writes them.

pydantic writes each default as the value stored in the model (``linger.ms``'s 5 ms as
``0.005`` seconds, ``retention.bytes`` unlimited as ``Infinity``); an editor filling in
defaults would then write nonsense. Here defaults go through the field's own serialiser,
so they come out in the unit the key takes (``linger.ms: 5``, ``retention.bytes: -1``,
``nic: 10Gbps``), which loads back to the same default.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from simkafka.scenario.limits import MAX_BROKERS
from simkafka.scenario.model import Scenario
from simkafka.scenario.uncertain import UncertainSize, uncertain_json_schema
from simkafka.scenario.workload import ASSIGNOR_CLASS_NAMES

__all__ = ["scenario_json_schema", "scenario_json_schema_text"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _InputSchema(GenerateJsonSchema):
    """The schema of what a person writes (validation mode), defaults serialised."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> dict[str, Any]:
        json_schema = super().default_schema(schema)
        if "default" not in json_schema:
            return json_schema
        default = self.get_default_value(schema)
        serialise = _plain_serialiser(schema["schema"])
        if default is not NoDefault and default is not None and serialise is not None:
            json_schema["default"] = self.encode_default(serialise(default))
        return json_schema


def _plain_serialiser(schema: dict) -> Any:
    """The plain serialiser function of a field type, looking through its validators."""
    while True:
        serialization = schema.get("serialization")
        if serialization is not None and serialization.get("type") == "function-plain":
            return serialization["function"]
        if "schema" not in schema or schema.get("type") not in (
            "function-before", "function-after", "function-wrap", "nullable"
        ):
            return None
        schema = schema["schema"]


_CSV = {"type": "string", "description": "comma-separated, as Kafka's list configs"}
_SIZE = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]}

#: The shorter forms the models' "before" validators accept, which pydantic cannot see:
#: (model, key) -> the alternatives to the model's own schema for that key.
_SHORTHANDS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("Cluster", "brokers"): [{"type": "integer", "minimum": 1, "maximum": MAX_BROKERS,
                              "description": "a count: ids 0..n-1, racks dealt round-robin"}],
    ("Cluster", "racks"): [_CSV],
    ("Topic", "cleanup.policy"): [_CSV],
    ("Topic", "replica.assignment"): [{"type": "string", "pattern": r"^[0-9:,\s]*$",
                                       "description": "as kafka-topics.sh --replica-assignment: 0:1:2,1:2:0"}],
    ("Scenario", "costs"): [{"type": "string", "description": "a cost profile file (simkafka "
                             "calibrate -o FILE), relative to the scenario file"}],
    ("ProducerSpec", "acks"): [{"enum": [0, 1, -1, "-1"]}],
    ("ProducerSpec", "message_size"): [{"type": "integer", "minimum": 1},
                                       {"type": "string", "description": "a fixed size, e.g. 1KiB"},
                                       uncertain_json_schema(_SIZE, UncertainSize.example)],
    ("ProducerSpec", "keys"): [{"type": "null"}, {"const": "none"}],
    ("ConsumerGroupSpec", "topics"): [_CSV],
    ("ConsumerGroupSpec", "partition.assignment.strategy"): [
        _CSV, {"type": "array", "items": {"enum": sorted(ASSIGNOR_CLASS_NAMES)}}],
}
_ANNOTATIONS = ("title", "description", "default")


def _add_shorthands(schema: dict[str, Any]) -> None:
    for (model, key), alternatives in _SHORTHANDS.items():
        # the root model's properties are the schema's own, the others' are under $defs
        properties = (schema if schema.get("title") == model else schema["$defs"][model])["properties"]
        own = properties[key]
        kept = {k: own[k] for k in _ANNOTATIONS if k in own}
        rest = {k: v for k, v in own.items() if k not in _ANNOTATIONS}
        properties[key] = {**kept, "anyOf": [rest, *alternatives]}


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (draft 2020-12), with Kafka's dotted key names."""
    schema = Scenario.model_json_schema(by_alias=True, schema_generator=_InputSchema)
    _add_shorthands(schema)
    return {"$schema": DIALECT, **schema}


def scenario_json_schema_text() -> str:
    """:func:`scenario_json_schema` as strict JSON (no ``NaN`` or ``Infinity``)."""
    return json.dumps(scenario_json_schema(), indent=2, allow_nan=False)
