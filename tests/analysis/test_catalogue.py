"""The shipped instance catalogue, user catalogue files and the hardware an instance maps to."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from simkafka.analysis.catalogue import (
    SHIPPED_PROVIDERS,
    BlockStorage,
    CatalogueError,
    LocalNvme,
    load_catalogue,
    shipped_catalogue,
)
from simkafka.analysis.hardware import JVM_HEAP, OS_RESERVE, broker_hardware, hardware_fields
from simkafka.scenario import parse_scenario
from simkafka.scenario.cluster import BrokerHardware

CATALOGUE = shipped_catalogue()

# the families issue 12 names, each with at least a few sizes
FAMILIES = {
    "aws": ["m5.", "m6i.", "m7g.", "r6i.", "i3en.", "i4i.", "im4gn."],
    "gcp": ["n2-standard-", "n2-highmem-", "c3-standard-"],
    "azure": ["Standard_D", "Standard_E", "Standard_L"],
}


def test_every_provider_ships_with_prices_and_sources():
    assert tuple(CATALOGUE.providers) == SHIPPED_PROVIDERS
    for provider in CATALOGUE.providers.values():
        assert provider.region and provider.currency == "USD"
        for priced in (provider.block_storage, provider.cross_zone_transfer):
            assert priced is not None and priced.source.strip() and isinstance(priced.date, datetime.date)
        assert provider.block_storage.usd_per_gb_month > 0
        assert provider.cross_zone_transfer.usd_per_gb >= 0


@pytest.mark.parametrize("name", CATALOGUE.names)
def test_every_instance_has_a_source_a_date_and_positive_figures(name):
    instance = CATALOGUE.instance(name)
    assert len(instance.source) > 20 and isinstance(instance.date, datetime.date)
    assert instance.vcpu > 0 and instance.memory > 0 and instance.usd_per_hour > 0
    assert instance.network.baseline > 0
    assert instance.network.burst is None or instance.network.burst >= instance.network.baseline
    storage = instance.storage
    if isinstance(storage, LocalNvme):
        assert storage.count >= 1 and storage.size > 0 and storage.disk_write > 0 and storage.disk_read > 0
        # a guessed disk figure must say so in the entry's source
        assert "not found" in instance.source
    else:
        assert isinstance(storage, BlockStorage) and storage.bandwidth > 0


@pytest.mark.parametrize("provider", SHIPPED_PROVIDERS)
def test_the_families_used_for_kafka_are_there(provider):
    names = [i.name for i in CATALOGUE.providers[provider].instances]
    for family in FAMILIES[provider]:
        assert sum(n.startswith(family) for n in names) >= 3, family


def test_figures_are_read_in_their_units():
    i3en = CATALOGUE.instance("i3en.2xlarge")
    assert i3en.vcpu == 8 and i3en.memory == 64 * 1024**3
    assert i3en.network.baseline == 8.4e9 / 8 and i3en.network.burst == 25e9 / 8
    assert i3en.storage == LocalNvme(kind="local_nvme", count=2, size="2500GB", disk_write="1GB/s",
                                     disk_read="2GB/s")
    m7g = CATALOGUE.instance("m7g.xlarge")
    assert m7g.storage == BlockStorage(kind="block", bandwidth="1250Mbps")
    assert m7g.usd_per_hour == 0.1632


def test_lookup_of_an_unknown_type_lists_close_names():
    assert CATALOGUE.offer("m7g.xlarge").provider.provider == "aws"
    assert CATALOGUE.offer("Standard_E8s_v5").provider.region == "eastus"
    with pytest.raises(CatalogueError) as caught:
        CATALOGUE.offer("m7g.xlarg")
    text = str(caught.value)
    assert "unknown instance type 'm7g.xlarg'" in text and "'m7g.xlarge'" in text
    with pytest.raises(CatalogueError, match="add it with a catalogue file"):
        CATALOGUE.offer("zzzzzz")


USER_FILE = """\
provider: aws
region: us-east-1
instances:
  - name: m8g.xlarge
    vcpu: 4
    memory: 16GiB
    network: {baseline: 1.875Gbps, burst: 12.5Gbps}
    storage: {kind: block, bandwidth: 1250Mbps}
    usd_per_hour: 0.17952
    source: our AWS bill, November 2026
    date: 2026-12-01
  - name: m7g.xlarge
    vcpu: 4
    memory: 16GiB
    network: {baseline: 1.876Gbps, burst: 12.5Gbps}
    storage: {kind: block, bandwidth: 1250Mbps}
    usd_per_hour: 0.10
    source: our negotiated price
    date: 2026-12-01
"""


def test_a_user_file_adds_and_replaces_instances(tmp_path: Path):
    path = tmp_path / "ours.yaml"
    path.write_text(USER_FILE)
    catalogue = load_catalogue(path)
    assert catalogue.instance("m8g.xlarge").usd_per_hour == 0.17952
    assert catalogue.instance("m7g.xlarge").usd_per_hour == 0.10
    assert catalogue.offer("m8g.xlarge").provider.block_storage == CATALOGUE.providers["aws"].block_storage
    # the rest of the shipped catalogue is still there, in its order, with the new one last
    assert catalogue.names[: len(CATALOGUE.providers["aws"].instances)] == CATALOGUE.names[
        : len(CATALOGUE.providers["aws"].instances)]
    assert set(catalogue.names) == set(CATALOGUE.names) | {"m8g.xlarge"}
    # and the shipped catalogue itself is unchanged
    assert CATALOGUE.instance("m7g.xlarge").usd_per_hour == 0.1632


def test_a_user_provider_of_its_own(tmp_path: Path):
    path = tmp_path / "onprem.yaml"
    path.write_text("""\
provider: onprem
region: dc1
block_storage: {name: ceph, usd_per_gb_month: 0.03, source: internal chargeback sheet, date: 2026-11-01}
cross_zone_transfer: {usd_per_gb: 0, source: one building, date: 2026-11-01}
instances:
  - {name: r740, vcpu: 32, memory: 192GiB, network: {baseline: 25Gbps},
     storage: {kind: local_nvme, count: 4, size: 3.84TB, disk_write: 2GB/s, disk_read: 3GB/s},
     usd_per_hour: 0.9, source: amortised over 4 years, date: 2026-11-01}
""")
    catalogue = load_catalogue(path, shipped=False)
    assert catalogue.names == ("r740",)
    assert broker_hardware(catalogue.instance("r740")).dirs == ((2e9, 3e9),) * 4


def _problems(tmp_path: Path, text: str) -> list:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    for problem in caught.value.problems:
        assert problem.source == str(path)
    return list(caught.value.problems)


def test_a_bad_value_is_reported_at_its_file_line_and_field(tmp_path: Path):
    text = USER_FILE.replace("usd_per_hour: 0.17952", "usd_per_hour: -1")
    [problem] = _problems(tmp_path, text)
    assert problem.line == 9 and problem.path == ("instances", 0, "usd_per_hour")
    assert "greater than 0" in problem.message
    assert "bad.yaml:9:" in str(problem) and "instances[0].usd_per_hour" in str(problem)


def test_a_misspelt_key_a_missing_key_and_a_bandwidth_without_unit(tmp_path: Path):
    text = (USER_FILE.replace("    vcpu: 4\n", "    vcpus: 4\n", 1)
            .replace("bandwidth: 1250Mbps}\n    usd_per_hour: 0.10", "bandwidth: 1250}\n    usd_per_hour: 0.10")
            .replace("    source: our AWS bill, November 2026\n", ""))
    problems = _problems(tmp_path, text)
    by_path = {p.path: p for p in problems}
    unknown = by_path[("instances", 0, "vcpus")]
    assert unknown.line == 5 and unknown.message == "unknown key" and unknown.hint == "did you mean 'vcpu'?"
    missing = by_path[("instances", 0, "vcpu")]
    assert missing.message == "required key is missing" and missing.line == 4  # at the entry
    assert by_path[("instances", 0, "source")].message == "required key is missing"
    bandwidth = by_path[("instances", 1, "storage", "bandwidth")]
    assert bandwidth.line == 15 and "needs a unit" in bandwidth.message and "Mbps" not in bandwidth.message
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_an_unknown_storage_kind_and_a_region_clash(tmp_path: Path):
    [problem] = _problems(tmp_path, USER_FILE.replace("{kind: block, bandwidth: 1250Mbps}\n    usd_per_hour: 0.17952",
                                                      "{kind: ebs, bandwidth: 1250Mbps}\n    usd_per_hour: 0.17952"))
    assert problem.line == 8 and problem.path[:3] == ("instances", 0, "storage")
    assert "local_nvme" in problem.message and "block" in problem.message
    [problem] = _problems(tmp_path, USER_FILE.replace("us-east-1", "eu-west-1"))
    assert problem.line == 2 and problem.path == ("region",) and "provider: aws-eu-west-1" in problem.hint


def test_a_new_provider_needs_its_prices_and_yaml_errors_have_lines(tmp_path: Path):
    problems = _problems(tmp_path, USER_FILE.replace("provider: aws", "provider: mine"))
    assert {p.path for p in problems} == {("block_storage",), ("cross_zone_transfer",)}
    [problem] = _problems(tmp_path, USER_FILE + "  - name: [unclosed\n")
    assert problem.line == 21 and "not valid YAML" in problem.message
    [problem] = _problems(tmp_path, USER_FILE.replace("m7g.xlarge", "m8g.xlarge"))
    assert problem.path == ("instances",) and "listed twice" in problem.message
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(CatalogueError, match="no such catalogue file"):
        load_catalogue(missing)


# ---- hardware ------------------------------------------------------------------------


@pytest.mark.parametrize("name", CATALOGUE.names)
def test_every_instance_maps_to_valid_scenario_hardware(name):
    instance = CATALOGUE.instance(name)
    hardware = broker_hardware(instance)
    assert hardware.nic == instance.network.baseline  # sustained, never the burst
    assert hardware.cpu_cores == instance.vcpu
    assert hardware.page_cache == instance.memory - JVM_HEAP - OS_RESERVE
    if isinstance(instance.storage, LocalNvme):
        assert hardware.dirs == ((instance.storage.disk_write, instance.storage.disk_read),) * instance.storage.count
    else:
        assert hardware.dirs == ((instance.storage.bandwidth, instance.storage.bandwidth),)


def test_the_hardware_fields_load_in_a_scenario():
    fields = hardware_fields(CATALOGUE.instance("i3en.2xlarge"))
    assert fields == {
        "nic": "8.4Gbps", "cpu_cores": 8, "page_cache": "57GiB", "disk_write": "2GB/s", "disk_read": "4GB/s",
        "log_dirs": [{"disk_write": "1GB/s", "disk_read": "2GB/s"}] * 2,
    }
    scenario = parse_scenario(Path("scenarios/quickstart.yaml").read_text())
    cluster = scenario.cluster.model_copy(update={"hardware": BrokerHardware.model_validate(fields)})
    assert cluster.hardware_of(cluster.broker_ids[0]).dirs == ((1e9, 2e9), (1e9, 2e9))


def test_an_instance_with_no_memory_for_the_page_cache_is_refused():
    small = CATALOGUE.instance("m5.xlarge").model_copy(update={"memory": 7 * 1024**3})
    with pytest.raises(ValueError, match="nothing is left for the page cache"):
        hardware_fields(small)
