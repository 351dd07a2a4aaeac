"""The base every scenario section derives from: immutable, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """Frozen, rejects unknown keys, and is filled only by the names written in YAML.

    Kafka's dotted config names are field aliases (``linger.ms``); the Python attribute
    holds the value in base units (``linger`` in seconds). Only the YAML names are
    accepted, so a scenario has exactly one spelling for each setting.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        validate_default=False,
        str_strip_whitespace=True,
    )


def split_csv(value: object) -> object:
    """Kafka list configs are comma-separated strings; YAML users also write lists."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value
