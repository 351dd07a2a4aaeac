"""What machine a cost profile was measured on: CPU, cores, OS, runtimes, the fsync disk."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["cpu_model", "describe_machine", "filesystem_of"]


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def filesystem_of(directory: str) -> str:
    """``ext4 on /dev/vda (mounted at /)``: the mount holding ``directory`` (Linux), or
    ``unknown``."""
    target = os.path.realpath(directory)
    best: tuple[str, str, str] | None = None
    try:
        lines = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "unknown"
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        device, mount, kind = fields[0], fields[1].replace("\\040", " "), fields[2]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) > len(best[1])):
            best = (device, mount, kind)
    if best is None:
        return "unknown"
    device, mount, kind = best
    return f"{kind} on {device} (mounted at {mount})"


def describe_machine(fsync_dir: str, jvm: str | None) -> dict[str, str]:
    """The ``machine`` section of a profile."""
    return {
        "cpu": cpu_model(),
        "logical_cores": str(os.cpu_count() or "unknown"),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "jvm": jvm or "none found",
        "fsync_dir": f"{fsync_dir}: {filesystem_of(fsync_dir)}",
    }
