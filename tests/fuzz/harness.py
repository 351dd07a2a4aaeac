"""Run fuzz cases in a bounded worker process and classify what happened.

A :class:`Worker` is a child process that runs many cases one after another in-process
(importing simkafka once: fast), each under a time bound (``setitimer``; the parent also
kills a child that does not answer in time) and the whole child under an address-space
bound (``RLIMIT_AS``: what it may add to the address space it was forked with). A child that dies is a crash (a signal) and is replaced.

Input level (``simkafka check`` through click's test runner, as a user runs it):

==================  =============================================================
``clean_error``     exit 2, the message names ``file:line`` and a field path (or, for a
                    file refused whole -- too large, not regular -- the file), no traceback
``refused_run``     exit 2, one line naming the file: the run-size estimate refuses the run
``unlocated_error`` exit 2 and no traceback, but no ``file:line: error: field`` in the message
``accepted``        exit 0
``traceback``       an exception escaped (or "Traceback" was printed, or another exit status)
``hang``            over the time bound
``memory``          over the memory bound (``MemoryError``)
``crash``           the worker died from a signal
==================  =============================================================

Run level (a short run of an accepted case on one engine): ``ok``, ``refused`` (the
engine refused it up front with a clear error: a value it cannot use, or a run too
big for memory), ``long`` (not run: the up-front estimate says it takes longer than
half the time bound, and ``simkafka check`` warns of that), ``traceback``, ``hang``
(over the time bound although the estimate said it fits), ``memory``, ``crash``, and
``violation`` (it finished, but conservation did not balance, or a figure is NaN,
infinite or negative, or a utilisation is above 1).
"""

from __future__ import annotations

import faulthandler
import math
import multiprocessing
import os
import queue
import re
import resource
import signal
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INPUT_CLASSES = (
    "clean_error", "refused_run", "unlocated_error", "accepted", "traceback", "hang", "memory",
    "crash",
)
INPUT_FAILURES = ("unlocated_error", "traceback", "hang", "memory", "crash")
RUN_CLASSES = ("ok", "refused", "long", "traceback", "hang", "memory", "crash", "violation")
RUN_FAILURES = ("traceback", "hang", "memory", "crash", "violation")

MEMORY_BOUND = 3 * 1024**3  # bytes of address space a worker may add to what it was forked with
UTILISATION_SLACK = 1e-6
LATENCY_COLUMN = re.compile(r"_latency_p\d+_ms$")
LATENCY_KEYS = {
    "p50_produce_latency_s": "produce",
    "p99_produce_latency_s": "produce",
    "p99_e2e_latency_s": "end_to_end",
}


@dataclass(frozen=True)
class Outcome:
    kind: str
    detail: str = ""

    @property
    def signature(self) -> str:
        """What identifies the failure class: the first line of the detail."""
        return self.detail.splitlines()[0] if self.detail else self.kind


class CaseTimeout(BaseException):
    """Raised in the worker by the case timer; a BaseException so that ``except Exception``
    (click's runner, library code) does not swallow it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout


def _where(exc: BaseException) -> str:
    """``Type: message`` at the innermost simkafka frame (the failure's signature)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "simkafka" in f.filename] or frames
    place = f" at {Path(ours[-1].filename).name}:{ours[-1].name}" if ours else ""
    message = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{type(exc).__name__}{place}: {message}"


# ---- input level ----------------------------------------------------------------------------


def check_input(data: bytes, resolved: bool, workdir: Path) -> Outcome:
    """``simkafka check [--resolved] FILE`` on ``data``, in-process."""
    from click.testing import CliRunner

    from simkafka.cli.main import main

    path = workdir / "scenario.yaml"
    path.write_bytes(data)
    args = ["check", *(["--resolved"] if resolved else []), str(path)]
    result = CliRunner().invoke(main, args)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        if isinstance(result.exception, MemoryError):
            return Outcome("memory", _where(result.exception))
        return Outcome("traceback", _where(result.exception))
    if "Traceback" in result.output:
        return Outcome("traceback", "Traceback printed: " + result.output.strip().splitlines()[-1][:160])
    if result.exit_code == 0:
        return Outcome("accepted")
    if result.exit_code != 2:
        return Outcome("traceback", f"exit status {result.exit_code}: {stderr.strip()[:160]}")
    located = re.search(rf"{re.escape(str(path))}:\d+(:\d+)?: error: \S", stderr)
    if located:
        return Outcome("clean_error")
    # a refusal of the whole file (over the size limit, not a regular file) has no line to
    # name: the file is the field
    if re.search(rf"^{re.escape(str(path))}: error: \(top level\): the file ", stderr, re.M):
        return Outcome("clean_error")
    refusal = rf"^{re.escape(str(path))}: error: cannot simulate .*: the run would (need|take) about"
    if re.search(refusal, stderr, re.M):
        return Outcome("refused_run")
    first = stderr.strip().splitlines()[-1] if stderr.strip() else "(no message)"
    return Outcome("unlocated_error", first.replace(str(path), "FILE")[:160])


# ---- run level ------------------------------------------------------------------------------


def short_run_scenario(data: bytes, engine: str, duration: float) -> Any:
    """The accepted scenario ``data`` on ``engine`` for ``duration`` simulated seconds (a
    quarter of it warm-up, at least ten samples)."""
    from simkafka.scenario import parse_scenario

    scenario = parse_scenario(data.decode("utf-8"), "case.yaml")
    sample = min(scenario.run.sample_interval, duration / 10)
    run = scenario.run.model_copy(
        update={"engine": engine, "duration": duration, "warmup": duration / 4, "sample_interval": sample}
    )
    return scenario.model_copy(update={"run": run})


def invariant_violations(result: Any, duration: float) -> list[str]:
    """What a finished run got wrong (empty if nothing)."""
    import numpy as np

    found = []
    if not result.conservation.get("ok"):
        found.append(f"conservation does not balance: {result.conservation}"[:300])
    for key, value in result.summary.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isnan(value):
            histogram = result.histograms.get(LATENCY_KEYS.get(key, ""))
            if histogram is None or histogram.total > 0:
                found.append(f"summary {key} is NaN")
        elif math.isinf(value):
            found.append(f"summary {key} is infinite")
        elif value < 0:
            found.append(f"summary {key} is negative ({value:g})")
    ts = result.timeseries
    if ts.empty:
        found.append("empty time series")
    else:
        if abs(float(ts.index[-1]) - duration) > 1e-6:
            found.append(f"time series ends at {float(ts.index[-1]):g}s, not {duration:g}s")
        values = ts.select_dtypes("number")
        array = values.to_numpy(dtype=float)
        # an interval's latency percentile is NaN when no message completed in it
        no_data = np.array([LATENCY_COLUMN.search(c) is not None for c in values.columns])
        for label, mask in (
            ("NaN", np.isnan(array) & ~no_data[None, :]),
            ("infinite", np.isinf(array)),
            ("negative", array < 0),
        ):
            if mask.any():
                columns = sorted({values.columns[j] for j in np.nonzero(mask)[1]})
                found.append(f"time series {label} in {', '.join(columns[:4])}")
        util = values[[c for c in values.columns if c.endswith("_util")]]
        if not util.empty and (util.to_numpy() > 1 + UTILISATION_SLACK).any():
            worst = util.max().sort_values().index[-1]
            found.append(f"utilisation above capacity: {worst} = {util[worst].max():.4g}")
    latency = result.latency.to_numpy(dtype=float)
    if (latency < 0).any():
        found.append("negative latency")
    return found


def _refusal_types() -> tuple[type[BaseException], ...]:
    try:
        from simkafka.sim.guards import RunRefused
    except ImportError:  # the run-size estimate is not there yet
        return ()
    return (RunRefused,)


def run_short(data: bytes, engine: str, duration: float, workdir: Path) -> Outcome:
    """Simulate an accepted case for ``duration`` seconds and check the invariants."""
    from simkafka.sim.engine import simulate

    scenario = short_run_scenario(data, engine, duration)
    try:
        from simkafka.sim.budget import estimate_run
    except ImportError:  # the run-size estimate is not there yet
        estimate_run = None
    if estimate_run is not None and _case_timeout:
        try:
            wall = estimate_run(scenario).wall_seconds
        except _refusal_types() as exc:
            return Outcome("refused", str(exc).splitlines()[0][:160])
        except Exception as exc:
            return Outcome("traceback", "estimate_run: " + _where(exc))
        if wall > _case_timeout / 2:
            return Outcome("long", f"estimated {wall:.3g}s wall")
    try:
        result = simulate(scenario)
    except _refusal_types() as exc:
        return Outcome("refused", str(exc).splitlines()[0][:160])
    except MemoryError as exc:
        return Outcome("memory", _where(exc))
    except Exception as exc:
        return Outcome("traceback", _where(exc))
    violations = invariant_violations(result, duration)
    if violations:
        return Outcome("violation", "\n".join(violations))
    return Outcome("ok")


# ---- the worker process ---------------------------------------------------------------------

def check_case(seed: int, index: int, rare: bool, resolved: bool, workdir: Path) -> Outcome:
    """``check_input`` on fuzz case ``(seed, index)``, generated in the worker (the parent
    holds no case data: some are megabytes)."""
    from fuzz.mutate import make_case

    return check_input(make_case(seed, index, rare=rare).data, resolved, workdir)


def run_case(seed: int, index: int, rare: bool, engine: str, duration: float, workdir: Path) -> Outcome:
    """``run_short`` on fuzz case ``(seed, index)``, generated in the worker."""
    from fuzz.mutate import make_case

    return run_short(make_case(seed, index, rare=rare).data, engine, duration, workdir)


_case_timeout = 0.0  # the running case's time bound (set in the worker)
WALL_FACTOR = 4  # a case's wall-clock bound: this many times its CPU bound

TASKS = {"check": check_input, "run": run_short, "check_case": check_case, "run_case": run_case}


def _address_space() -> int:
    """Bytes of address space this process holds now (``VmSize``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(conn: Any, memory_bytes: int, fault_log: str) -> None:
    # the bound is on what the cases add: the worker is forked from the test process,
    # whose address space (numba's compiler and thread pools, every module a long test
    # session loaded) is 1.6 GB after one stepped run and grows -- an absolute bound
    # under it left the child no room for its next allocation, and a CI run saw its
    # cases fail as tracebacks from a half-failed import, and crash
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGPROF, _on_alarm)
    signal.signal(signal.SIGALRM, _on_alarm)
    # where native code crashed: the parent reads it after a signal
    with open(fault_log, "w") as log, tempfile.TemporaryDirectory(prefix="simkafka-fuzz-") as tmp:
        faulthandler.enable(log)
        workdir = Path(tmp)
        while True:
            task = conn.recv()
            if task is None:
                return
            name, args, timeout = task
            global _case_timeout
            _case_timeout = timeout
            try:
                # the bound is the case's CPU time (ITIMER_PROF: user and system), so a
                # case that only waits for a core on a busy machine is not taken for a
                # hang; a case that waits without running has WALL_FACTOR times as long
                signal.setitimer(signal.ITIMER_PROF, timeout)
                signal.setitimer(signal.ITIMER_REAL, timeout * WALL_FACTOR)
                try:
                    outcome = TASKS[name](*args, workdir)
                finally:
                    signal.setitimer(signal.ITIMER_PROF, 0)
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except CaseTimeout:
                outcome = Outcome("hang", f"over {timeout:g}s")
            except MemoryError as exc:
                outcome = Outcome("memory", _where(exc))
            except Exception as exc:  # the harness itself must not die on a case
                outcome = Outcome("traceback", _where(exc))
            conn.send(outcome)


class Worker:
    """One child process running cases; replaced after a crash, a hang or a memory error."""

    def __init__(self, memory_bytes: int = MEMORY_BOUND) -> None:
        self.memory_bytes = memory_bytes
        self._context = multiprocessing.get_context("fork")
        self._start()

    def _start(self) -> None:
        self._conn, child_conn = self._context.Pipe()
        fd, self._fault_log = tempfile.mkstemp(prefix="simkafka-fuzz-", suffix=".faults")
        os.close(fd)
        self._process = self._context.Process(
            target=_child, args=(child_conn, self.memory_bytes, self._fault_log), daemon=True
        )
        self._process.start()
        child_conn.close()

    def _restart(self) -> None:
        self._kill()
        self._start()

    def _kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._conn.close()
        Path(self._fault_log).unlink(missing_ok=True)

    def _crash_site(self) -> str:
        """The innermost Python frames faulthandler wrote when the child died."""
        try:
            lines = Path(self._fault_log).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        frames = [line.strip() for line in lines if line.strip().startswith("File ")]
        return ("\n" + "\n".join(frames[:6])) if frames else ""

    def run(self, name: str, args: tuple, timeout: float) -> Outcome:
        """Run task ``name`` with ``args`` and return its outcome (never raises for a case)."""
        try:
            self._conn.send((name, args, timeout))
        except (BrokenPipeError, OSError):
            self._restart()
            self._conn.send((name, args, timeout))
        # the child's own timer answers first; this is for a child stuck in native code
        if self._conn.poll(timeout * WALL_FACTOR + 10):
            try:
                outcome = self._conn.recv()
            except EOFError:
                outcome = None
            if outcome is not None:
                if outcome.kind in ("hang", "memory"):
                    self._restart()  # its state may be half-built
                return outcome
        self._process.join(0.5)
        code = self._process.exitcode
        if code is not None and code < 0:
            outcome = Outcome("crash", f"killed by {signal.Signals(-code).name}" + self._crash_site())
        elif code is not None:
            outcome = Outcome("crash", f"worker exited with status {code}")
        else:
            outcome = Outcome("hang", f"no answer in {timeout * WALL_FACTOR + 10:g}s (native code?)")
        self._restart()
        return outcome

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._process.join(5)
        self._kill()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_parallel(
    jobs: Iterable[tuple[object, str, tuple, float]],
    workers: int,
    on_done: Callable[[object, Outcome], None],
) -> None:
    """Run ``(key, task, args, timeout)`` jobs on ``workers`` worker processes."""
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    lock = threading.Lock()

    def drive() -> None:
        with Worker() as worker:
            while True:
                try:
                    key, task, args, timeout = todo.get_nowait()
                except queue.Empty:
                    return
                outcome = worker.run(task, args, timeout)
                with lock:
                    on_done(key, outcome)

    threads = [threading.Thread(target=drive) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
