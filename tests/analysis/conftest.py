"""A tiny scenario every sweep test uses: stepped engine, half a second simulated."""

import pytest

from simkafka.scenario import parse_scenario

TINY = """\
name: tiny
cluster:
  brokers: 3
  racks: [a, b, c]
topics:
  - name: events
    partitions: 3
    replication.factor: 1
producers:
  - name: writers
    topic: events
    rate: 2000 msg/s
    message_size: 1KiB
consumer_groups:
  - group.id: readers
    topics: [events]
    members: 1
run:
  duration: 0.5s
  warmup: 0.1s
  engine: stepped
  step: 1ms
  sample_interval: 0.1s
  seed: 7
"""


@pytest.fixture(scope="module")
def tiny():
    # a Scenario is frozen: one per module is safe to share
    return parse_scenario(TINY, "tiny.yaml")


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path
