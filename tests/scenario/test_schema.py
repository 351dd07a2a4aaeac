"""``simkafka schema``: strict JSON, standard JSON Schema, and defaults an editor can write back.

The schema used to contain ``Infinity`` (not JSON), a non-standard ``gt`` keyword, and
defaults in the stored unit (``linger.ms: 0.005``, five microseconds when written back).
"""

from __future__ import annotations

import json
import math
import typing
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from pydantic import BaseModel, TypeAdapter

from simkafka.cli.main import main
from simkafka.scenario import Scenario, parse_scenario

LIBRARY = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))

# the keywords of JSON Schema draft 2020-12 (core, applicator, validation, meta-data)
STANDARD_KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$anchor", "$comment", "$dynamicRef", "$dynamicAnchor", "$vocabulary",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items",
    "contains", "properties", "patternProperties", "additionalProperties", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems",
    "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "title", "description", "default", "deprecated", "readOnly", "writeOnly",
    "examples", "format", "discriminator",  # OpenAPI's discriminator: an annotation validators ignore
}
VALUE_KEYWORDS = {"default", "const", "enum", "examples", "discriminator"}  # hold data, not schemas
NAME_KEYWORDS = {"properties", "$defs", "patternProperties"}  # keys are names, values schemas


@pytest.fixture(scope="module")
def schema() -> dict:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(result.output, parse_constant=refuse)


def keywords(node: object, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(key)
            if key in VALUE_KEYWORDS:
                continue
            if key in NAME_KEYWORDS:
                for sub in value.values():
                    keywords(sub, out)
            else:
                keywords(value, out)
    elif isinstance(node, list):
        for item in node:
            keywords(item, out)
    return out


def test_the_schema_is_a_valid_draft_2020_12_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)


def test_only_standard_keywords(schema):
    assert keywords(schema, set()) - STANDARD_KEYWORDS == set()


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_library_scenario_validates(schema, path):
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))


def test_bounds_are_in_the_keys_unit(schema):
    producer = schema["$defs"]["ProducerSpec"]["properties"]
    linger = producer["linger.ms"]
    assert linger["default"] == 5
    assert {"type": "number", "minimum": 0, "maximum": 2**63 - 1} in linger["anyOf"]
    request_timeout = producer["request.timeout.ms"]
    assert {"type": "number", "minimum": 0, "maximum": 2**31 - 1} in request_timeout["anyOf"]
    assert producer["batch.size"]["anyOf"][0]["maximum"] == 2**31 - 1
    assert schema["$defs"]["Topic"]["properties"]["retention.bytes"]["default"] == -1
    assert schema["$defs"]["BrokerHardware"]["properties"]["nic"]["default"] == "10Gbps"


def test_the_schema_refuses_what_the_loader_refuses(schema):
    validator = jsonschema.Draft202012Validator(schema)
    text = LIBRARY[0].read_text()
    data = yaml.safe_load(text)
    data["cluster"].setdefault("hardware", {})["nic"] = 100  # a bare bandwidth
    assert not validator.is_valid(data)
    data["cluster"]["hardware"]["nic"] = "10Gbps"
    data["topics"][0]["replication.factor"] = 0
    assert not validator.is_valid(data)


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    if model.__name__ in seen:
        return seen
    seen[model.__name__] = model
    for field in model.model_fields.values():
        for arg in _flatten(field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _models(arg, seen)
    return seen


def _flatten(annotation: object) -> list[object]:
    out = [annotation]
    for arg in typing.get_args(annotation):
        out.extend(_flatten(arg))
    return out


def _defaults(schema: dict):
    models = _models(Scenario, {})
    for name, definition in schema["$defs"].items():
        model = models[name]
        for key, prop in definition.get("properties", {}).items():
            if "default" not in prop or prop["default"] is None:
                continue
            field = next(f for n, f in model.model_fields.items() if (f.alias or n) == key)
            yield name, key, prop["default"], field


def test_every_default_loads_back_to_the_default(schema):
    checked = 0
    for name, key, written, field in _defaults(schema):
        annotation = typing.Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        adapter = TypeAdapter(annotation)
        loaded = adapter.validate_python(written)
        expected = field.default
        if isinstance(expected, float):
            assert loaded == expected or (math.isinf(expected) and math.isinf(loaded)), (name, key, written)
        else:
            assert adapter.dump_python(loaded, mode="json") == adapter.dump_python(expected, mode="json"), (name, key)
        checked += 1
    assert checked > 80


def test_a_scenario_with_every_default_written_out_loads_the_same(schema):
    defs = schema["$defs"]

    def defaults(name: str) -> dict:
        return {k: p["default"] for k, p in defs[name]["properties"].items() if p.get("default") is not None}

    minimal = {
        "name": "t",
        "cluster": {"brokers": 3},
        "topics": [{"name": "a"}],
        "producers": [{"topic": "a", "rate": "10 msg/s", "message_size": "1KiB"}],
        "consumer_groups": [{"group.id": "g", "topics": ["a"], "members": 1}],
    }
    full = {
        **minimal,
        "cluster": {"brokers": 3, **{k: v for k, v in defaults("Cluster").items()}},
        "topics": [{"name": "a", **defaults("Topic")}],
        "producers": [{**minimal["producers"][0], **defaults("ProducerSpec")}],
        "consumer_groups": [{**minimal["consumer_groups"][0], **defaults("ConsumerGroupSpec")}],
        "run": defaults("RunSpec"),
    }
    assert parse_scenario(yaml.safe_dump(full)) == parse_scenario(yaml.safe_dump(minimal))
