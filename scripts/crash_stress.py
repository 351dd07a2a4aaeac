"""Crash-safety stress test of the log engine: kill a writer, tear its tail, recover, check.

Each trial starts ``python -m simkafka.log._crash_writer`` on a fresh directory with a
seeded policy (``flush.messages``, ``segment.bytes``, ``index.interval.bytes``, batch
sizes), lets it append for a random time, and SIGKILLs it. A SIGKILL alone loses
nothing that reached the page cache, so the trial then emulates a power cut as well:
every byte written after the last fsync the writer reported may be lost -- each file is
cut at a random length between its durable size and its current size (segments created
after the last flush may lose everything), and with some probability a byte in the
unflushed region is flipped (a torn sector). Then the log is reopened (recovery from the
reported recovery point, as a checkpoint would give it) and checked:

* every flushed offset is still there (``log_end_offset >= recovery point``);
* offsets are contiguous from the log start and every record's value is the one the
  writer stored at that offset (no garbage, no duplicates);
* every segment file is a whole number of CRC-valid batches (no partial batch served);
* reopening a second time changes nothing (recovery is idempotent).

    python scripts/crash_stress.py --trials 50 [--seed 1] [--jobs 8] [--keep]

Exit status 0 when every trial passes.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from simkafka.log._crash_writer import WriterParams, value_for  # noqa: E402
from simkafka.log.clock import SystemClock  # noqa: E402
from simkafka.log.records import decode_all, iter_batches  # noqa: E402
from simkafka.log.unified_log import UnifiedLog  # noqa: E402


@dataclass
class TrialResult:
    seed: int
    ok: bool
    flushed: int
    recovered_leo: int
    appended_lines: int
    message: str = ""


def _read_progress(path: str) -> tuple[bool, tuple[int, int, int] | None, int]:
    """(ready, last flush line, number of flush lines); only whole lines count."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return False, None, 0
    lines = data.split(b"\n")[:-1]  # the last element is an unfinished line (or b"")
    flushes = [ln.split() for ln in lines if ln.startswith(b"F ")]
    last = None
    if flushes:
        rp, base, size = (int(x) for x in flushes[-1][1:4])
        last = (rp, base, size)
    return bool(lines), last, len(flushes)


def _emulate_power_loss(dir: str, last: tuple[int, int, int] | None, rng: random.Random) -> None:
    """Lose (part of) every byte written after the last reported fsync."""
    durable_base, durable_size = (last[1], last[2]) if last else (-1, 0)
    for name in sorted(os.listdir(dir)):
        if not name.endswith(".log"):
            continue
        base = int(name.split(".")[0])
        path = os.path.join(dir, name)
        size = os.path.getsize(path)
        if base < durable_base:
            continue  # fully flushed (a roll flushed it)
        floor = durable_size if base == durable_base else 0
        if size <= floor:
            continue
        cut = rng.randint(floor, size)
        with open(path, "r+b") as f:
            f.truncate(cut)
            if cut > floor and rng.random() < 0.3:
                pos = rng.randrange(floor, cut)
                f.seek(pos)
                old = f.read(1)
                f.seek(pos)
                f.write(bytes([old[0] ^ (1 << rng.randrange(8))]))


def _check(dir: str, params: WriterParams, flushed: int) -> tuple[int, str]:
    """Reopen and verify; returns (log end offset, problem or '')."""
    cfg = params.config()
    log = UnifiedLog(dir, cfg, SystemClock(), recovery_point=flushed)
    try:
        leo = log.log_end_offset
        if leo < flushed:
            return leo, f"lost flushed data: log end {leo} < recovery point {flushed}"
        log.update_high_watermark(leo)
        expected = log.log_start_offset
        if expected != 0:
            return leo, f"log start moved to {expected}"
        while expected < leo:
            info = log.read(expected, 1 << 30)
            got = list(decode_all(info.batches()))
            if not got:
                return leo, f"empty read at {expected} below log end {leo}"
            for offset, _ts, record in got:
                if offset != expected:
                    return leo, f"offset {offset} where {expected} was expected"
                if record.value != value_for(offset, params.value_size):
                    return leo, f"wrong value at offset {offset}"
                expected += 1
        for segment in log.segments:
            with open(segment.log_path, "rb") as f:
                data = f.read()
            it = iter_batches(data)
            for _pos, batch in it:
                batch.ensure_valid(file=segment.log_path)
            if it.tail is not None:
                return leo, f"partial batch left in {segment.log_path}: {it.tail.reason}"
    finally:
        log.close()
    again = UnifiedLog(dir, cfg, SystemClock(), recovery_point=0)
    try:
        if again.log_end_offset != leo:
            return leo, f"second recovery changed the log end: {leo} -> {again.log_end_offset}"
    finally:
        again.close()
    return leo, ""


def run_trial(seed: int, *, max_kill_delay: float = 0.25, keep: bool = False) -> TrialResult:
    rng = random.Random(seed)
    params = WriterParams.from_seed(seed)
    root = tempfile.mkdtemp(prefix="crash-stress-")
    dir = os.path.join(root, "topic-0")
    progress = os.path.join(root, "progress")
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simkafka.log._crash_writer", dir, progress, str(seed)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not _read_progress(progress)[0]:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                return TrialResult(seed, False, 0, 0, 0, f"writer exited early: {err[-2000:]}")
            if time.monotonic() > deadline:
                return TrialResult(seed, False, 0, 0, 0, "writer never became ready")
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, max_kill_delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode != -signal.SIGKILL:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            return TrialResult(seed, False, 0, 0, 0, f"writer died on its own: {err[-2000:]}")
        _ready, last, n_flushes = _read_progress(progress)
        flushed = last[0] if last else 0
        _emulate_power_loss(dir, last, rng)
        leo, problem = _check(dir, params, flushed)
        return TrialResult(seed, not problem, flushed, leo, n_flushes, problem)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def run(
    trials: int,
    seed: int = 1,
    *,
    max_kill_delay: float = 0.25,
    keep: bool = False,
    jobs: int = 1,
) -> list[TrialResult]:
    """Run ``trials`` trials with seeds derived from ``seed``; ``jobs`` run at once."""
    master = random.Random(seed)
    seeds = [master.getrandbits(32) for _ in range(trials)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(
            pool.map(lambda s: run_trial(s, max_kill_delay=max_kill_delay, keep=keep), seeds)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-kill-delay", type=float, default=0.25, help="seconds")
    parser.add_argument("--keep", action="store_true", help="keep the trial directories")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="trials at once")
    args = parser.parse_args(argv)
    start = time.monotonic()
    results = run(
        args.trials, args.seed, max_kill_delay=args.max_kill_delay, keep=args.keep, jobs=args.jobs
    )
    failed = [r for r in results if not r.ok]
    for r in results:
        status = "ok  " if r.ok else "FAIL"
        print(
            f"{status} seed={r.seed:>10} flushed={r.flushed:>6} recovered_leo={r.recovered_leo:>6} "
            f"flushes={r.appended_lines:>5} {r.message}"
        )
    print(
        f"{len(results) - len(failed)}/{len(results)} trials passed in "
        f"{time.monotonic() - start:.1f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
