"""Progress lines where stderr is not a terminal (make, CI, pipes); the bar has an ETA."""

from __future__ import annotations

import io

from rich.console import Console

from simkafka.cli.progress import ProgressDisplay, format_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _plain_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=200), out


def test_plain_lines_every_tenth_with_elapsed_and_eta():
    console, out = _plain_console()
    clock = FakeClock()
    with ProgressDisplay(
        console,
        "simulating q",
        60.0,
        detail=lambda done, total: f"{done:.1f}s / {total:.1f}s simulated",
        clock=clock,
    ) as progress:
        for step in range(1, 61):  # one simulated second per wall second
            clock.now += 1.0
            progress.update(float(step))
    lines = out.getvalue().splitlines()
    assert lines[0] == "simulating q: started"
    assert "simulating q: 12.0s / 60.0s simulated (20%), 12s elapsed, ETA 48s" in lines
    assert lines[-1] == "simulating q: 60.0s / 60.0s simulated, done in 1m00s"
    assert len(lines) == 12  # started, a line per tenth (not per update), done


def test_slow_work_still_gets_a_line_every_few_seconds():
    console, out = _plain_console()
    clock = FakeClock()
    with ProgressDisplay(console, "appending", 1000, clock=clock) as progress:
        for done in range(1, 31):  # 30 s for the first 3 %
            clock.now += 1.0
            progress.update(float(done))
    lines = out.getvalue().splitlines()[1:-1]
    assert len(lines) == 3 and all("elapsed" in line and "ETA" in line for line in lines)


def test_fast_work_prints_at_most_a_line_a_second():
    console, out = _plain_console()
    clock = FakeClock()
    with ProgressDisplay(console, "simulating q", 10.0, clock=clock) as progress:
        for step in range(1, 11):
            clock.now += 0.01
            progress.update(float(step))
    assert len(out.getvalue().splitlines()) == 2  # started, done


def test_an_interrupted_run_prints_no_final_line():
    console, out = _plain_console()
    try:
        with ProgressDisplay(console, "simulating q", 10.0) as progress:
            progress.update(1.0)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert "done" not in out.getvalue()


def test_the_terminal_bar_has_an_eta_column():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160)
    with ProgressDisplay(console, "simulating q", 10.0) as progress:
        progress.update(5.0)
        progress._rich.refresh()
    assert "ETA" in out.getvalue()


def test_format_seconds():
    assert [format_seconds(s) for s in (0.4, 42, 185, 3725, float("inf"))] == [
        "0s",
        "42s",
        "3m05s",
        "1h02m",
        "?",
    ]


def test_a_new_phase_gets_a_line_and_its_own_eta():
    console, out = _plain_console()
    clock = FakeClock()
    with ProgressDisplay(console, "raw write", 1.0, clock=clock) as progress:
        clock.now += 30.0
        progress.update(1.0)
        progress.update(0.0, 10.0, description="produce")
        clock.now += 2.0
        progress.update(2.0)  # a fifth of the phase in 2 s: 8 s to go
    lines = out.getvalue().splitlines()
    assert "produce: started" in lines
    assert "produce: (20%), 32s elapsed, ETA 8s" in lines
