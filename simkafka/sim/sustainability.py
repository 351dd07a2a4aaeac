"""Does a queue grow without bound? The test behind a run's "not sustainable" flag.

A run offered more than some stage can serve does not always show it in its throughput:
with ``acks=1`` the producers are acknowledged at the offered rate while followers fall
further behind, until ``replica.lag.time.max.ms`` shrinks the ISR -- which a short run may
never reach. What does show it is a queue (replication lag, dirty pages, consumer lag,
blocked ``send()`` calls, the accumulator) growing linearly over the measured window.

:func:`growth_rate` decides that for one sampled queue. It is pure (arrays in, a number or
``None`` out) so that it can be tested on synthetic series. A queue counts as growing only
if all of these hold, each guarding against a different false alarm:

1. the least-squares slope is positive and at least ``min_rate`` (the caller's floor, e.g.
   a small share of the throughput through the queue: a drift of a few messages per
   second is not a capacity problem);
2. the rise over the window (slope x window) is a sizeable share of the queue's own size,
   so a queue oscillating around a level -- a noisy flat one, or a saw-tooth such as the
   accumulator filling and draining each linger -- is not mistaken for one that grows;
3. the rise is several times the scatter of the samples around the fitted line, so noise
   cannot fake a slope;
4. it is still growing at the end: of the window's three thirds, each one's mean is above
   the previous one's by a good part of what a straight line would add, so a queue that
   grew and then levelled off (dirty pages reaching their limit, a lag that found its
   level) is sustainable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

MIN_SAMPLES = 3  # fewer samples after the warm-up cannot show a trend at all
SHARE_OF_SCALE = 0.25  # (2) rise over the window / the largest value in it
NOISE_MULTIPLE = 2.0  # (3) rise over the window / standard deviation of the residuals
STEP_SHARE = 0.5  # (4) each third's rise over the previous / a straight line's


def growth_rate(
    times: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    *,
    min_rate: float = 0.0,
) -> float | None:
    """The rate (units of ``values`` per second) at which a sampled queue grows linearly
    over the window ``times`` spans, or ``None`` if it does not (see the module's rules).
    Samples that are NaN are left out."""
    t = np.asarray(times, dtype=float)
    y = np.asarray(values, dtype=float)
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    if t.size < MIN_SAMPLES:
        return None
    window = float(t[-1] - t[0])
    if window <= 0:
        return None
    slope, intercept = np.polyfit(t, y, 1)
    slope = float(slope)
    if slope <= 0 or slope < min_rate:
        return None
    rise = slope * window
    if rise < SHARE_OF_SCALE * float(np.abs(y).max()):
        return None
    scatter = float(np.std(y - (slope * t + intercept)))
    if rise < NOISE_MULTIPLE * scatter:
        return None
    first, middle, last = (float(part.mean()) for part in np.array_split(y, 3))
    step = STEP_SHARE * rise / 3
    if middle - first < step or last - middle < step:
        return None
    return slope


def growing_queues(
    times: Sequence[float] | np.ndarray,
    queues: Mapping[str, Sequence[float] | np.ndarray],
    min_rates: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The queues of ``queues`` (name -> samples at ``times``) that grow, with their rate
    per second, in the order given; ``min_rates`` holds each queue's floor (default 0)."""
    floors = min_rates or {}
    out = {}
    for name, values in queues.items():
        rate = growth_rate(times, values, min_rate=floors.get(name, 0.0))
        if rate is not None:
            out[name] = rate
    return out


def can_judge(times: Sequence[float] | np.ndarray) -> bool:
    """Whether a window sampled at ``times`` has enough samples to show a trend."""
    return len(times) >= MIN_SAMPLES
