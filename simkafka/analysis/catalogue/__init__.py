"""The instance catalogue: cloud machines a planner may choose, with their figures and prices.

Each provider is one YAML file in this package (``aws.yaml``, ``gcp.yaml``, ``azure.yaml``):
its region and currency, the price of network block storage per GB-month, the price of
traffic crossing an availability zone, and its instance types -- vCPU, memory, baseline and
burst network bandwidth, storage (local NVMe disks or network block storage with the
instance's bandwidth cap), the on-demand price per hour. Every figure carries a ``source``
and a ``date``; a figure that could not be found in a published source says so in its
source text rather than citing one.

A user adds a catalogue file of the same form (:func:`load_catalogue`). A file naming a
shipped provider extends it: its instances are added, an instance of the same name
replaces the shipped one (a negotiated price), and its prices, when given, replace the
shipped ones. It must then be for the same region, since the shipped prices are that
region's. User files are read as scenarios are (bounded, safe YAML), and every problem
names the file, line and field.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field, ValidationError, field_validator, model_validator

from simkafka.scenario.base import SpecModel
from simkafka.scenario.errors import PathElement, Problem, ScenarioError
from simkafka.scenario.loader import position_of
from simkafka.scenario.quantities import DiskBandwidth, NicBandwidth, PositiveDataSize
from simkafka.scenario.reading import Positions, read_scenario_text, read_yaml_with_positions

__all__ = [
    "BlockStorage", "BlockStoragePrice", "Catalogue", "CatalogueError", "CrossZoneTransfer", "Instance",
    "LocalNvme", "Network", "Offer", "Provider", "SHIPPED_PROVIDERS", "load_catalogue", "shipped_catalogue",
]

#: The provider files shipped in this package, in the order they are read.
SHIPPED_PROVIDERS = ("aws", "gcp", "azure")

_Price = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_Text = Annotated[str, Field(min_length=1)]


class CatalogueError(ScenarioError):
    """A catalogue file cannot be used, or an instance type is not in the catalogue.

    A :class:`ScenarioError`, so that the command line reports it as it reports a bad
    scenario: every problem with its file, line and field, exit status 2.
    """


class Sourced(SpecModel):
    """Where a figure comes from: a URL or document, and the date it was read."""

    source: _Text = Field(description="where the figures were published; 'not found: ...' when estimated")
    date: datetime.date = Field(description="when the source was read (YYYY-MM-DD)")


class Network(SpecModel):
    """Network bandwidth per direction. ``burst`` lasts only while credits last, so the
    simulator's NIC is the ``baseline`` (Kafka's load is sustained)."""

    baseline: NicBandwidth
    burst: NicBandwidth | None = Field(None, description="'up to' bandwidth; omitted when there is no burst")

    @model_validator(mode="after")
    def _burst_above_baseline(self) -> Network:
        if self.burst is not None and self.burst < self.baseline:
            raise ValueError("burst bandwidth must not be below the baseline")
        return self


class LocalNvme(SpecModel):
    """Instance-store NVMe disks: each one a log directory of its own (JBOD)."""

    kind: Literal["local_nvme"]
    count: int = Field(ge=1, le=64)
    size: PositiveDataSize = Field(description="capacity of one disk")
    disk_write: DiskBandwidth = Field(description="sequential write bandwidth of one disk")
    disk_read: DiskBandwidth = Field(description="sequential read bandwidth of one disk")


class BlockStorage(SpecModel):
    """Network block storage (EBS, Persistent Disk, Managed Disks), capped per instance."""

    kind: Literal["block"]
    bandwidth: DiskBandwidth = Field(
        description="the instance's sustained (baseline) block storage bandwidth, reads and writes together"
    )


class Instance(Sourced):
    """One instance type with its figures and on-demand price."""

    name: _Text
    vcpu: int = Field(ge=1, le=1024)
    memory: PositiveDataSize
    network: Network
    storage: LocalNvme | BlockStorage = Field(discriminator="kind")
    usd_per_hour: _Price = Field(description="on-demand price per hour in the provider's region")


class BlockStoragePrice(Sourced):
    """The provider's general-purpose block storage (gp3, pd-balanced, Premium SSD v2)."""

    name: _Text
    usd_per_gb_month: _Price = Field(description="per GiB (2^30 bytes) provisioned, per month")


class CrossZoneTransfer(Sourced):
    """What one GiB costs when it crosses from one availability zone to another,
    counting both sides (AWS bills the sender and the receiver $0.01 each: 0.02)."""

    usd_per_gb: float = Field(ge=0, allow_inf_nan=False)


class Provider(SpecModel):
    """One catalogue file: a provider's region, its storage and transfer prices, its instances."""

    provider: _Text = Field(description="the provider's name: aws, gcp, azure, or your own")
    region: _Text = Field(description="the region every price in this file is for")
    currency: Literal["USD"] = "USD"
    block_storage: BlockStoragePrice | None = None
    cross_zone_transfer: CrossZoneTransfer | None = None
    instances: tuple[Instance, ...] = ()

    @field_validator("instances")
    @classmethod
    def _distinct_names(cls, instances: tuple[Instance, ...]) -> tuple[Instance, ...]:
        seen: set[str] = set()
        for instance in instances:
            if instance.name in seen:
                raise ValueError(f"instance {instance.name!r} is listed twice")
            seen.add(instance.name)
        return instances

    def instance(self, name: str) -> Instance | None:
        return next((i for i in self.instances if i.name == name), None)


class Offer(NamedTuple):
    """An instance type with the provider that sells it (for its storage and transfer prices)."""

    provider: Provider
    instance: Instance


class Catalogue:
    """Providers by name, and every instance type by name across them."""

    def __init__(self, providers: Iterable[Provider]):
        self.providers: dict[str, Provider] = {}
        for provider in providers:
            self.providers[provider.provider] = provider
        self._offers: dict[str, Offer] = {}
        for provider in self.providers.values():
            for instance in provider.instances:
                self._offers[instance.name] = Offer(provider, instance)

    def __repr__(self) -> str:
        counts = ", ".join(f"{p.provider} {p.region}: {len(p.instances)}" for p in self.providers.values())
        return f"Catalogue({counts})"

    @property
    def names(self) -> tuple[str, ...]:
        """Every instance type, in file order."""
        return tuple(self._offers)

    def __contains__(self, name: object) -> bool:
        return name in self._offers

    def offer(self, name: str) -> Offer:
        """The instance type ``name`` and its provider; a :class:`CatalogueError` listing
        close names when it is not in the catalogue."""
        try:
            return self._offers[name]
        except KeyError:
            pass
        close = difflib.get_close_matches(name, self.names, n=5, cutoff=0.6)
        hint = ("did you mean " + ", ".join(repr(c) for c in close) + "?") if close else (
            "add it with a catalogue file of your own (see simkafka/analysis/catalogue/aws.yaml for the form)")
        raise CatalogueError([Problem("<catalogue>", None, None, (), f"unknown instance type {name!r}", hint)])

    def instance(self, name: str) -> Instance:
        return self.offer(name).instance


# ---- reading files ----------------------------------------------------------------------


def _data_path(loc: Sequence[PathElement], data: Any) -> tuple[PathElement, ...]:
    # pydantic adds the union tag ('local_nvme') to locations; keep only what is in the
    # data, and a last missing / unknown key so that the message names it
    out: list[PathElement] = []
    current = data
    for i, element in enumerate(loc):
        if isinstance(current, dict) and element in current:
            current = current[element]
            out.append(element)
        elif isinstance(current, list) and isinstance(element, int) and 0 <= element < len(current):
            current = current[element]
            out.append(element)
        elif i == len(loc) - 1:
            out.append(element)
    return tuple(out)


_MODELS: dict[str, type[SpecModel]] = {
    "": Provider, "block_storage": BlockStoragePrice, "cross_zone_transfer": CrossZoneTransfer,
    "instances": Instance, "network": Network,
}


def _keys_hint(path: tuple[PathElement, ...], data: Any) -> str | None:
    """'did you mean' / 'valid keys here' for an unknown key, from the model holding it."""
    names = [p for p in path[:-1] if isinstance(p, str)]
    parent = names[-1] if names else ""
    model: type[SpecModel] | None = _MODELS.get(parent)
    if parent == "storage":
        holder: Any = data
        for element in path[:-1]:
            holder = holder[element]
        model = {"local_nvme": LocalNvme, "block": BlockStorage}.get(holder.get("kind")) if isinstance(
            holder, dict) else None
    if model is None:
        return None
    keys = [info.alias or name for name, info in model.model_fields.items()]
    close = difflib.get_close_matches(str(path[-1]), keys, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else "valid keys here: " + ", ".join(keys)


def _problems(exc: ValidationError, data: Any, positions: Positions, source: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = _data_path(error["loc"], data)
        line, col = position_of(path, positions)
        kind = error["type"]
        hint = error.get("ctx", {}).get("hint")
        if kind == "extra_forbidden":
            message, hint = "unknown key", _keys_hint(path, data)
        elif kind == "missing":
            message = "required key is missing"
        else:
            message = error["msg"].removeprefix("Value error, ")
            given = error.get("input")
            if not isinstance(given, (dict, list)) and repr(given) not in message:
                message += f" (got {given!r})"
        problems.append(Problem(source, line, col, path, message, str(hint) if hint else None))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def parse_provider(text: str, source: str) -> tuple[Provider, Positions]:
    """One catalogue file's text -> :class:`Provider`, or a :class:`CatalogueError`."""
    try:
        data, positions = read_yaml_with_positions(text, source)
    except ScenarioError as exc:
        raise CatalogueError(exc.problems) from None
    if not isinstance(data, dict):
        raise CatalogueError([Problem(source, 1, 1, (), "a catalogue file is a mapping",
                                      "keys: provider, region, block_storage, cross_zone_transfer, instances")])
    try:
        return Provider.model_validate(data), positions
    except ValidationError as exc:
        raise CatalogueError(_problems(exc, data, positions, source)) from None


def _read_shipped(name: str) -> Provider:
    resource = resources.files(__name__).joinpath(f"{name}.yaml")
    provider, _ = parse_provider(resource.read_text(encoding="utf-8"), f"{__name__}/{name}.yaml")
    return provider


def _merge(shipped: Provider, extra: Provider, source: str, positions: Positions) -> Provider:
    if extra.region != shipped.region:
        line, col = position_of(("region",), positions)
        raise CatalogueError([Problem(
            source, line, col, ("region",),
            f"the shipped {shipped.provider} catalogue is for {shipped.region}, this file for {extra.region}",
            f"prices differ by region: name a provider of your own, e.g. provider: {shipped.provider}-{extra.region}",
        )])
    replaced = {i.name: i for i in extra.instances}
    instances = tuple(replaced.pop(i.name, i) for i in shipped.instances) + tuple(replaced.values())
    return shipped.model_copy(update={
        "instances": instances,
        "block_storage": extra.block_storage or shipped.block_storage,
        "cross_zone_transfer": extra.cross_zone_transfer or shipped.cross_zone_transfer,
    })


def _check_complete(provider: Provider, source: str, positions: Positions) -> None:
    """A provider of the user's own needs its storage and transfer prices, as the costs use them."""
    missing = [key for key in ("block_storage", "cross_zone_transfer") if getattr(provider, key) is None]
    if missing:
        raise CatalogueError([Problem(source, *position_of((), positions), (key,), "required key is missing",
                                      f"{provider.provider!r} is not a shipped provider, so its prices are needed")
                              for key in missing])


def shipped_catalogue() -> Catalogue:
    """The catalogue shipped with simkafka (AWS, GCP, Azure)."""
    return Catalogue(_read_shipped(name) for name in SHIPPED_PROVIDERS)


def load_catalogue(*paths: str | Path, shipped: bool = True) -> Catalogue:
    """The shipped catalogue (unless ``shipped=False``) extended by the user's catalogue files,
    in order. Raises :class:`CatalogueError` naming file, line and field."""
    providers = {p.provider: p for p in shipped_catalogue().providers.values()} if shipped else {}
    for path in paths:
        try:
            text = read_scenario_text(path, "catalogue file")
        except ScenarioError as exc:
            raise CatalogueError(exc.problems) from None
        source = str(path)
        provider, positions = parse_provider(text, source)
        if provider.provider in providers:
            providers[provider.provider] = _merge(providers[provider.provider], provider, source, positions)
        else:
            _check_complete(provider, source, positions)
            providers[provider.provider] = provider
    return Catalogue(providers.values())

