"""The fast slice of the scenario fuzzer (issue 9): mutated scenarios through ``simkafka check``.

Every case must either be accepted (exit 0) or refused with one clear message naming the
file, the line and the field (exit 2), within a time and a memory bound. The long mode is
``benchmarks/fuzz_scenarios.py``.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from fuzz import harness
from fuzz.harness import INPUT_FAILURES, Outcome, Worker, run_parallel
from fuzz.mutate import MUTATIONS_DATA, MUTATIONS_TEXT, make_case, seed_corpus

SEED = 20260903
CASES = 1500
CASE_TIMEOUT = 3.0  # seconds per `check`; the slowest clean case takes ~0.2 s


def test_cases_are_reproducible_from_seed_and_index() -> None:
    first = [make_case(SEED, i) for i in range(50)]
    again = [make_case(SEED, i) for i in reversed(range(50))][::-1]
    assert [c.data for c in first] == [c.data for c in again]
    assert [c.data for c in first] != [make_case(SEED + 1, i).data for i in range(50)]


def test_every_seed_scenario_and_mutation_kind_is_drawn() -> None:
    cases = [make_case(SEED, i) for i in range(CASES)]
    assert {c.base for c in cases} == {name for name, _ in seed_corpus()}
    described = " | ".join(m for c in cases for m in c.mutations)
    for marker in ("= 0", "= -1", "huge int", "nan", "empty mapping", "unitless", "other unit",
                   "removed", "swap", "alias of", "wrong type", "truncated", "flipped",
                   "inserted at byte", "duplicated", "nested", "alias bomb", " x "):
        assert marker in described, marker
    assert len(MUTATIONS_DATA) == 9 and len(MUTATIONS_TEXT) == 6


def _sleep(seconds: float, workdir: object) -> Outcome:
    time.sleep(seconds)
    return Outcome("accepted")


def _segfault(workdir: object) -> Outcome:
    os.kill(os.getpid(), signal.SIGSEGV)
    return Outcome("accepted")


def _allocate(workdir: object) -> Outcome:
    return Outcome("accepted", str(len(bytearray(8 * 1024**3))))


def test_harness_classifies_hangs_crashes_and_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounds work: a case that sleeps, one that segfaults, one that allocates too much."""
    monkeypatch.setitem(harness.TASKS, "sleep", _sleep)
    monkeypatch.setitem(harness.TASKS, "segfault", _segfault)
    monkeypatch.setitem(harness.TASKS, "allocate", _allocate)
    with Worker(memory_bytes=2 * 1024**3) as worker:
        assert worker.run("sleep", (5.0,), 0.5).kind == "hang"
        crashed = worker.run("segfault", (), 5.0)
        assert crashed.kind == "crash" and crashed.signature == "killed by SIGSEGV"
        assert "_segfault" in crashed.detail  # where it died
        assert worker.run("allocate", (), 5.0).kind == "memory"
        assert worker.run("sleep", (0.0,), 5.0).kind == "accepted"  # replaced, still working


def test_harness_tells_clean_errors_from_tracebacks() -> None:
    quickstart = dict(seed_corpus())["scenarios/quickstart.yaml"]
    import yaml

    good = yaml.safe_dump(quickstart, sort_keys=False).encode()
    bad = good.replace(b"brokers: 3", b"brokers: -3")
    with Worker() as worker:
        assert worker.run("check", (good, False), 10.0).kind == "accepted"
        assert worker.run("check", (bad, False), 10.0).kind == "clean_error"
        assert worker.run("check", (b"name: [", False), 10.0).kind == "clean_error"


def test_a_worker_forked_from_a_large_test_process_has_its_whole_memory_bound() -> None:
    """The memory bound is on what a case adds: a test process that holds gigabytes of
    address space (numba's compiler and thread pools after a stepped run, everything a long
    session loaded) forks workers that still have their bound to spend."""
    import mmap

    quickstart = dict(seed_corpus())["scenarios/quickstart.yaml"]
    import yaml

    good = yaml.safe_dump(quickstart, sort_keys=False).encode()
    held = mmap.mmap(-1, 3 * 1024**3)  # address space only: never touched
    try:
        with Worker(memory_bytes=2 * 1024**3) as worker:
            assert worker.run("check", (good, False), 10.0).kind == "accepted"
    finally:
        held.close()


def test_fuzzed_scenarios_load_or_fail_cleanly() -> None:
    """A few thousand mutated scenarios (``check`` and, for one in four, ``check --resolved``):
    no traceback, no hang, no crash, and every refusal names file, line and field."""
    counts: Counter[str] = Counter()
    failures: list[str] = []

    def done(key: object, outcome: Outcome) -> None:
        index, resolved = key  # type: ignore[misc]
        counts[outcome.kind] += 1
        if outcome.kind in INPUT_FAILURES:
            case = make_case(SEED, index)
            command = "check --resolved" if resolved else "check"
            failures.append(f"{case.name} ({command}; {case.base}: {'; '.join(case.mutations)}): "
                            f"{outcome.kind}: {outcome.signature}")

    jobs = [
        ((i, resolved), "check_case", (SEED, i, False, resolved), CASE_TIMEOUT)
        for i in range(CASES)
        for resolved in ((False, True) if i % 4 == 0 else (False,))
    ]
    run_parallel(jobs, 2, done)
    assert sum(counts.values()) == len(jobs)
    # what failed first: it says why, and explains a short count of accepted cases too
    assert not failures, f"{len(failures)} of {len(jobs)} cases failed ({dict(counts)}):\n" + "\n".join(
        sorted(failures)[:40]
    )
    # the mutations are not all refused: the fuzzer reaches the engines too
    assert counts["accepted"] > len(jobs) // 10, dict(counts)
