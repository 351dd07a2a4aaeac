"""A calibrated cost profile as a YAML file a scenario's ``costs:`` can name.

The file starts with :data:`PROFILE_MARKER`, the comment by which a later
``simkafka calibrate -o`` recognises a file it wrote and may replace (it never replaces
anything else), followed by the machine, the date and how to regenerate it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from simkafka.scenario.costs import CostProfile
from simkafka.validate.calibration.calibrate import Calibration, format_cost

__all__ = ["PROFILE_MARKER", "is_profile_file", "profile_data", "profile_yaml"]

#: The first line of every profile ``simkafka calibrate`` writes.
PROFILE_MARKER = "# simkafka cost profile, written by `simkafka calibrate`"


def profile_data(profile: CostProfile) -> dict:
    """The profile as plain data, every cost written as a duration (``55.9ns``)."""
    data = profile.model_dump(mode="python")
    for section in ("producer", "broker", "consumer"):
        data[section] = {key: format_cost(value) for key, value in data[section].items()}
    data["codecs"] = {
        codec: {key: format_cost(value) for key, value in costs.items()}
        for codec, costs in data["codecs"].items()
    }
    return data


def profile_yaml(calibration: Calibration) -> str:
    """The YAML text of ``calibration``'s profile, with its header comment."""
    profile = calibration.profile
    machine = profile.machine
    header = [
        PROFILE_MARKER,
        f"# {profile.source}, in {calibration.seconds_taken:.0f} s.",
        f"# Machine: {machine.get('cpu', '?')}, {machine.get('logical_cores', '?')} logical cores, "
        f"{machine.get('os', '?')}.",
        "# Every CPU and time cost the engines charge; `how` says how each figure was measured",
        "# or, for those that need a running broker, where it comes from.",
        "# Use it from a scenario with `costs: <this file>` (relative to the scenario file);",
        "# regenerate it with `simkafka calibrate -o <this file>`.",
    ]
    body = yaml.safe_dump(profile_data(profile), sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body


def is_profile_file(path: Path | str) -> bool:
    """A file an earlier ``simkafka calibrate -o`` wrote (it starts with the marker)."""
    from simkafka.report.output_dir import file_head

    return file_head(path, len(PROFILE_MARKER) + 8).startswith(PROFILE_MARKER)
