"""Sliders for the classroom: re-run a small simulation and redraw when a setting moves.

:func:`sliders` wraps ``ipywidgets.interact``: each keyword is a control (a
``(min, max, step)`` tuple gives a slider, a list a drop-down, a bool a check box) and
``draw`` is called with their values whenever one changes. ipywidgets comes with the
optional extra (``pip install 'simkafka[notebooks]'``); where it is missing, ``draw`` runs
once with each control's first value and a line says how to get the sliders, so a
notebook runs the same everywhere -- in a plain kernel, in CI, in a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["first_value", "sliders"]

INSTALL_HINT = "sliders need ipywidgets: pip install 'simkafka[notebooks]'"


def first_value(control: Any) -> Any:
    """The value a control starts at: a ``(min, max[, step])`` slider's minimum, a
    ``(min, max, step, value)`` slider's ``value``, a list's first entry, anything else
    (a bool, a fixed value) as given."""
    if isinstance(control, tuple):
        if len(control) == 4:
            return control[3]
        return control[0]
    if isinstance(control, list):
        return control[0]
    return control


def _widget(control: Any) -> Any:
    """A slider (``continuous_update`` off) for a ``(min, max[, step[, value]])`` tuple,
    starting at :func:`first_value` -- not at the middle, where ``interact`` would start
    it; anything else as ``interact`` abbreviates it."""
    if isinstance(control, tuple) and 2 <= len(control) <= 4:
        import ipywidgets

        low, high = control[0], control[1]
        step = control[2] if len(control) > 2 else 1
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in control)
        kind = ipywidgets.IntSlider if whole else ipywidgets.FloatSlider
        return kind(min=low, max=high, step=step, value=first_value(control), continuous_update=False)
    return control


def sliders(draw: Callable[..., Any], **controls: Any) -> Any:
    """Show ``controls`` and call ``draw(**values)`` each time one changes (sliders update
    on release, not while dragging: every call runs a simulation). Without ipywidgets,
    call it once with :func:`first_value` of each and print :data:`INSTALL_HINT`.
    Returns what ``ipywidgets.interact`` returns, or ``draw``'s result."""
    try:
        import ipywidgets
    except ImportError:
        print(INSTALL_HINT)
        return draw(**{name: first_value(c) for name, c in controls.items()})
    return ipywidgets.interact(draw, **{name: _widget(c) for name, c in controls.items()})
