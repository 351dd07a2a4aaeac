"""Calibration: the cost profile measured on this machine with the real code paths.

:func:`calibrate` times the log engine's CRC32C, copies, codecs and fsync, and the
per-record and per-batch work of Kafka's Java paths in a small JVM probe
(``RecordProbe.java``); :func:`profile_yaml` writes the result as a profile a
scenario's ``costs:`` can name. ``simkafka calibrate`` is the command.
"""

from simkafka.validate.calibration.calibrate import (
    KEPT,
    NO_JDK,
    Calibration,
    Measurement,
    calibrate,
    format_cost,
)
from simkafka.validate.calibration.profile_file import (
    PROFILE_MARKER,
    is_profile_file,
    profile_data,
    profile_yaml,
)

__all__ = [
    "KEPT",
    "NO_JDK",
    "PROFILE_MARKER",
    "Calibration",
    "Measurement",
    "calibrate",
    "format_cost",
    "is_profile_file",
    "profile_data",
    "profile_yaml",
]
