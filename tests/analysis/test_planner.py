"""The planner's must-holds (issue 12): the recommendation meets every target with the
headroom and the next cheaper candidate does not; the bounds never prune a candidate that
would have met the targets; monotone where physics says so; the same plan on every
executor; bad plan input refused clearly."""

import math

import pytest

from simkafka.analysis.bounds import capacity_bounds
from simkafka.analysis.candidates import candidate, candidate_scenario, grow
from simkafka.analysis.catalogue import CatalogueError, shipped_catalogue
from simkafka.analysis.planner import Plan, PlanError, plan
from simkafka.analysis.targets import check_targets, evaluate_point
from simkafka.model.topology import balanced_topology, initial_topology
from simkafka.scenario import ScenarioError, parse_scenario

# 100 MB/s of 16 KiB messages on m5.xlarge brokers (1.25 Gbps baseline): three brokers are
# near their NICs' ceiling, so the search has to walk past failing candidates
PLANNED = """\
name: planned
cluster:
  brokers: 3
  racks: [az-a, az-b, az-c]
topics:
  - name: events
    partitions: 6
    replication.factor: 3
    min.insync.replicas: 2
    retention.ms: 1d
producers:
  - topic: events
    count: 3
    rate: 100MB/s
    message_size: 16KiB
    batch.size: 256KiB
    linger.ms: 10
consumer_groups:
  - group.id: readers
    topics: [events]
    members: 3
run: {seed: 7}
targets:
  p99_produce_latency: 200ms
plan:
  brokers: 3..6
  instance_types: [m5.xlarge]
  replication.factor: [3]
  min.insync.replicas: [2]
  survive: none
  duration: 2s
  warmup: 0.5s
"""


@pytest.fixture(scope="module")
def scenario():
    return parse_scenario(PLANNED, "planned.yaml")


@pytest.fixture(scope="module")
def planned(scenario) -> Plan:
    return plan(scenario)


def test_the_recommendation_meets_every_target_with_the_headroom(planned):
    rec = planned.recommendation
    assert rec is not None, planned.reason
    cases = planned.cases[rec.key]
    assert cases and all(case.met for case in cases)
    row = cases[0].row
    ceiling = planned.spec.ceiling
    utilisations = {k: v for k, v in row.items() if k.startswith("util.")}
    assert utilisations and max(utilisations.values()) <= ceiling
    # the load it was asked to carry, not less
    assert row["produce_msgs_per_s"] >= 0.99 * sum(
        p.rate.messages(p.message_size.mean) for p in planned.scenario.producers
    )
    assert row["p99_produce_latency_s"] <= 0.2
    assert row["conservation_ok"] is True


def test_every_cheaper_candidate_fails_and_the_plan_names_what(planned):
    rec = planned.recommendation
    cheaper = planned.next_cheaper()
    assert cheaper, "the grid has cheaper candidates than the recommendation"
    for c in cheaper:
        assert c.monthly_usd <= rec.monthly_usd
        assert planned.status(c) in ("failed", "pruned")
        reason = planned.why_not(c)
        assert reason
        if planned.status(c) == "failed":
            missed = [k for k in planned.cases[c.key] if not k.met]
            assert missed and all(check.target in reason for check in missed[0].missed)
        else:
            assert reason.startswith("bounds: ") and c.bounds.binding[0].resource in reason
    assert planned.to_dict()["next_cheaper"][0]["violates"] == planned.why_not(cheaper[0])


def test_the_bounds_never_prune_a_candidate_the_simulator_would_accept(scenario):
    # exhaustively: every candidate of a small grid simulated, pruned or not; 150 MB/s
    # needs more than three or four m5.xlarge brokers' NICs at 70 %
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["producers"][0]["rate"] = "150MB/s"
    data["plan"] = {**SMALL_PLAN, "brokers": "3..6", "partitions": {"events": [12]}}
    grid = plan(type(scenario).model_validate(data), executor="pool", workers=2)
    pruned = [c for c in grid.candidates if not c.bound_ok]
    assert pruned and len(pruned) < len(grid.candidates)
    for c in grid.candidates:
        sc = candidate_scenario(grid.scenario, grid.spec, grid.offers[c.instance], c.brokers,
                                dict(c.partitions), c.replication_factor, c.min_insync_replicas)
        row = evaluate_point(sc.model_dump_json(by_alias=True))
        accepted = all(check.met for check in check_targets(row, sc, grid.spec.ceiling))
        assert c.bound_ok or not accepted, f"{c.key} was pruned ({c.pruned_because}) but meets the targets"


def _with_racks(scenario, racks):
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["cluster"]["brokers"] = 3  # a count: the racks dealt again (or none)
    data["cluster"].pop("racks", None)
    if racks is not None:
        data["cluster"]["racks"] = racks
    return type(scenario).model_validate(data)


@pytest.mark.parametrize("racks", [None, ["az-a", "az-b", "az-c"]])
@pytest.mark.parametrize("instance", ["m5.xlarge", "m7g.2xlarge", "i4i.2xlarge"])
def test_more_brokers_of_the_same_type_never_lower_the_bound(scenario, instance, racks):
    offer = shipped_catalogue().offer(instance)
    base = _with_racks(scenario, racks)
    # with racks, counts that fill every rack alike: 5 brokers in 3 racks put one rack's
    # single broker in every partition (rack-aware placement), a real Kafka imbalance
    counts = range(3, 13) if racks is None else range(3, 13, 3)
    bounds = []
    for n in counts:
        sc = candidate_scenario(base, base.plan, offer, n, {"events": 2 * n}, 3, 2)
        bounds.append(capacity_bounds(sc, 0.7, topology=balanced_topology(sc)).bound)
    assert all(later >= earlier * (1 - 1e-9) for earlier, later in zip(bounds, bounds[1:], strict=False))
    assert bounds[-1] > bounds[0]


def test_uneven_racks_are_the_one_place_more_brokers_can_lower_the_bound(scenario):
    # 5 brokers dealt over 3 racks: az-c holds only broker 2, and with RF 3 over 3 racks
    # every partition has a replica there -- it takes the whole produce stream on its NIC
    offer = shipped_catalogue().offer("m5.xlarge")
    three, five = (capacity_bounds(sc, 0.7, topology=balanced_topology(sc)) for sc in (
        candidate_scenario(scenario, scenario.plan, offer, n, {"events": 2 * n}, 3, 2) for n in (3, 5)))
    nic_in = [r for r in five.rows if r.resource == "broker 2 NIC in"][0]
    assert nic_in.load_per_byte == pytest.approx(1.0)  # every byte produced, once
    assert five.row("broker 0 NIC in").load_per_byte < 1.0
    assert five.bound < 5 / 3 * three.bound


def test_kraft_placement_can_lead_unevenly_and_the_bounds_do_not_blame_the_cluster(scenario):
    # KAFKA-15354: the KRaft StripedReplicaPlacer balances leaders over racks, not over the
    # brokers of a rack; the pruning bound is on a balanced layout, the simulator runs the
    # created one and the candidate shows what the placement costs
    base = _with_racks(scenario, ["az-a", "az-b", "az-c"])
    offer = shipped_catalogue().offer("m5.xlarge")
    losses = []
    for n in range(3, 25, 3):  # every rack alike, so only the leader choice differs
        sc = candidate_scenario(base, base.plan, offer, n, {"events": 2 * n}, 3, 2)
        created = initial_topology(sc).leader_counts()
        balanced = balanced_topology(sc).leader_counts()
        assert sorted(balanced.values()) == [2] * n
        c = candidate(sc, base.plan, offer, required=1.0, zones=1)
        assert c.ideal.bound >= c.bounds.bound * (1 - 1e-9)
        losses.append((max(created.values()) > 2, c.placement_costs > 0))
    assert all(uneven == costs for uneven, costs in losses)
    assert any(uneven for uneven, _ in losses)  # the seeded placer is uneven somewhere


def test_higher_load_never_yields_a_cheaper_plan(scenario, planned):
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["plan"]["growth"] = "1.3x"
    heavier = plan(type(scenario).model_validate(data))
    assert planned.recommendation is not None
    if heavier.recommendation is not None:
        assert heavier.recommendation.monthly_usd >= planned.recommendation.monthly_usd
    assert heavier.required == pytest.approx(1.3 * planned.required, rel=1e-3)


def test_growth_multiplies_the_load_and_the_throughput_target(scenario):
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["targets"]["produce_throughput"] = "6000 msg/s"
    grown = grow(type(scenario).model_validate(data), 2.0)
    assert grown.producers[0].rate.bytes(1) == pytest.approx(200e6)
    assert grown.targets.produce_throughput.messages_per_second == pytest.approx(12000)


SMALL_PLAN = {"brokers": "3..4", "duration": "1s", "warmup": "0.25s", "survive": "none",
              "instance_types": ["m5.xlarge"], "replication.factor": [3], "min.insync.replicas": [2]}


def _small(scenario, **plan_fields):
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["plan"] = {**SMALL_PLAN, **plan_fields}
    return type(scenario).model_validate(data)


def _identity(p: Plan):
    return (p.recommendation.key if p.recommendation else None, p.reason,
            {key: [(k.name, k.row) for k in cases] for key, cases in p.cases.items()},
            [c.key for c in p.candidates])


def test_the_same_plan_on_every_executor(scenario):
    small = _small(scenario)
    inprocess = plan(small, executor="inprocess")
    pool = plan(small, executor="pool", workers=2)
    dask = plan(small, executor="dask", workers=2)
    assert _identity(inprocess) == _identity(pool) == _identity(dask)
    assert inprocess.simulations >= 2


def test_an_unknown_instance_type_names_close_ones(scenario):
    with pytest.raises(CatalogueError, match="m5.xlarg") as caught:
        plan(_small(scenario, instance_types=["m5.xlarg"]))
    assert "m5.xlarge" in str(caught.value)


def test_an_empty_broker_range_is_a_scenario_error():
    text = PLANNED.replace("brokers: 3..6", "brokers: 6..3")
    with pytest.raises(ScenarioError, match=r"plan\.brokers.*empty"):
        parse_scenario(text, "planned.yaml")


def test_a_plan_naming_a_missing_topic_is_refused():
    text = PLANNED.replace("  survive: none\n", "  survive: none\n  partitions: {event: auto}\n")
    with pytest.raises(ScenarioError, match=r"planned.yaml:31:16: error: plan.partitions.event: no topic named 'event'\n"
                                            r".*did you mean 'events'"):
        parse_scenario(text, "planned.yaml")


def test_impossible_targets_give_a_plan_that_says_why(scenario):
    data = _small(scenario).model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["targets"]["p99_produce_latency"] = "1us"
    result = plan(type(scenario).model_validate(data))
    assert result.recommendation is None
    assert result.reason == "every candidate the bounds allow was simulated and each missed a target"
    assert len(result.candidates) == 2
    for c in result.candidates:
        assert "p99 produce latency" in result.why_not(c)
    # and a search cut short by its budget says so
    data["plan"]["max_simulations"] = 2  # the one-partition probe and one candidate
    short = plan(type(scenario).model_validate(data))
    assert short.recommendation is None and "within 2 simulations" in short.reason
    assert short.status(short.candidates[1]) == "not simulated"


def test_a_load_no_candidate_can_carry_is_ruled_out_by_the_bounds(scenario):
    data = _small(scenario).model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["producers"][0]["rate"] = "5GB/s"
    result = plan(type(scenario).model_validate(data))
    assert result.recommendation is None
    assert result.simulations == 1  # the one-partition probe; no candidate was worth a run
    assert "bounds rule out every candidate" in result.reason
    assert all(not c.bound_ok for c in result.candidates)


def test_a_bad_engine_is_refused(scenario):
    with pytest.raises(PlanError, match="stepped, events, flow"):
        plan(_small(scenario), engine="fluid")


def test_the_flow_engine_ranks_and_the_stepped_engine_confirms_the_same_recommendation(scenario, planned):
    fast = plan(scenario, engine="flow", what_ifs=False)
    rec = fast.recommendation
    assert rec is not None, fast.reason
    # the flow engine agrees with the stepped engine within 2 % on throughput: it ranks the
    # grid to the same answer
    assert rec.key == planned.recommendation.key
    cases = fast.cases[rec.key]
    assert [(k.name, k.engine) for k in cases] == [("as planned", "flow"), ("as planned", "stepped")]
    assert all(k.met for k in cases)
    for c in fast.next_cheaper():
        ranked = fast.cases.get(c.key, [])
        if not ranked:
            continue
        # every candidate is ranked on the flow engine; only one it accepts goes on to the
        # stepped engine, and a cheaper one there failed it (else it would be the answer)
        assert ranked[0].engine == "flow"
        if ranked[0].met:
            assert [k.engine for k in ranked[1:]] == ["stepped"] and not ranked[1].met
            assert "(stepped)" in fast.why_not(c)
        else:
            assert len(ranked) == 1


def test_partition_advice_follows_the_measured_partition_and_the_members(planned):
    advice = planned.advice["events"]
    assert advice.producer_per_partition > 0
    need = math.ceil(advice.load / (planned.spec.ceiling * advice.per_partition))
    assert advice.derived == max(need, advice.members)
    for brokers in (3, 4, 5, 6):
        count = advice.for_brokers(brokers)
        assert count % brokers == 0 and count >= advice.derived
        assert str(count) in advice.explain(brokers) or count == advice.derived


def test_samples_give_each_finalist_a_miss_probability_with_an_interval(scenario):
    text = PLANNED.replace("rate: 100MB/s", "rate: {normal: 100MB/s, sd: 15%}")
    uncertain = _small(parse_scenario(text, "uncertain.yaml"), brokers="3..5")
    result = plan(uncertain, samples=4)
    assert result.recommendation is not None
    finalists = list(result.uncertainty)
    assert finalists[0] == result.recommendation.key and 1 <= len(finalists) <= 3
    for misses in result.uncertainty.values():
        by_target = {m.target: m for m in misses}
        anything = by_target["any target"]
        assert anything.samples == 4
        assert anything.misses >= max(m.misses for m in misses)  # a sample missing one target missed
        for m in misses:
            assert 0.0 <= m.low <= m.probability <= m.high <= 1.0
            assert m.probability == m.misses / m.samples
    assert result.to_dict()["uncertainty"][finalists[0]][-1]["target"] == "any target"
