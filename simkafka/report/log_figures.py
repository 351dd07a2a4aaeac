"""What a partition's log looks like on disk, as tables and figures, read from the real log
engine (:class:`~simkafka.log.unified_log.UnifiedLog`).

- :func:`records_frame`: every record of a log from its start offset, one row each
  (``offset``, ``timestamp``, ``key``, ``value``, ``batch``: the base offset of its batch);
- :func:`segment_table`: the log's segments (file name, base offset, next offset, bytes,
  sparse offset-index entries) -- a snapshot, so a figure can show segments that retention
  deleted afterwards;
- :func:`plot_partition_offsets`: each partition as a strip of boxes, one per offset,
  coloured by key (or any column);
- :func:`plot_log_segments`: one partition's segments along the offset axis, labelled with
  their file names, their offset-index entries marked, and those below the log start
  offset shown as deleted.

Plot functions draw on a given matplotlib ``Axes`` (a new figure when none is given),
return it, and never choose a backend or write a file.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from simkafka.log.records import decode_all
from simkafka.log.unified_log import FetchIsolation, UnifiedLog

__all__ = ["plot_log_segments", "plot_partition_offsets", "records_frame", "segment_table"]

_READ_BYTES = 1 << 20
_DELETED = "#bbbbbb"
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
            "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace")


def records_frame(log: UnifiedLog) -> pd.DataFrame:
    """Every record from ``log``'s start offset to its log end offset, read as a follower
    reads (up to the log end, not the high watermark), one row per record in offset order:
    ``offset``, ``timestamp`` (ms), ``key`` and ``value`` (UTF-8 text, None when null),
    ``batch`` (the base offset of the batch that holds it)."""
    rows = []
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        info = log.read(offset, _READ_BYTES, FetchIsolation.LOG_END)
        batches = list(info.batches())
        if not batches:
            break
        for batch in batches:
            for at, timestamp, record in decode_all([batch]):
                if at >= offset:
                    rows.append({"offset": at, "timestamp": timestamp, "key": _text(record.key),
                                 "value": _text(record.value), "batch": batch.base_offset})
        offset = batches[-1].next_offset
    return pd.DataFrame(rows, columns=["offset", "timestamp", "key", "value", "batch"])


def segment_table(log: UnifiedLog) -> pd.DataFrame:
    """``log``'s segments now, oldest first: ``file`` (the ``.log`` file's name, the base
    offset in 20 digits), ``base_offset``, ``next_offset`` (one past its last record),
    ``bytes``, ``index_entries`` (the sparse offset index: ``(offset, position)`` pairs)
    and ``active`` (the segment appends go to)."""
    import os

    active = log.active_segment
    rows = []
    for segment in log.segments:
        rows.append({
            "file": os.path.basename(segment.log_path),
            "base_offset": segment.base_offset,
            "next_offset": segment.read_next_offset(),
            "bytes": segment.size,
            "index_entries": [(e.offset, e.position) for e in segment.offset_index.all_entries()],
            "active": segment is active,
        })
    return pd.DataFrame(rows, columns=["file", "base_offset", "next_offset", "bytes", "index_entries", "active"])


def _colours(values: list) -> dict:
    distinct = list(dict.fromkeys(v for v in values))
    return {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(distinct)}


def plot_partition_offsets(
    partitions: Mapping[int, pd.DataFrame],
    ax=None,
    *,
    colour_by: str = "key",
    label: bool = True,
    title: str | None = None,
):
    """Each partition as a row of boxes, one per record at its offset (from
    :func:`records_frame`), coloured by the column ``colour_by`` (``key`` by default, or
    e.g. a producer column), with a legend of its values; batches are outlined. Offsets
    start at each partition's own 0: a partition is its own append-only sequence. Returns
    the Axes."""
    import matplotlib.patches as mpatches

    rows = sorted(partitions)
    if ax is None:
        import matplotlib.pyplot as plt

        longest = max((len(f) for f in partitions.values()), default=1)
        _, ax = plt.subplots(figsize=(min(14, 2 + 0.28 * longest), 0.9 + 0.6 * len(rows)))
    values = [v for p in rows for v in partitions[p][colour_by].tolist()] if rows else []
    colour = _colours(values)
    end = 1
    for y, p in enumerate(rows):
        frame = partitions[p]
        for offset, value in zip(frame["offset"], frame[colour_by], strict=True):
            ax.add_patch(mpatches.Rectangle((offset, y - 0.35), 0.9, 0.7, facecolor=colour[value],
                                            edgecolor="white", linewidth=0.5))
            if label:
                ax.text(offset + 0.45, y, str(offset), ha="center", va="center", fontsize=6, color="white")
        for _, batch in frame.groupby("batch", sort=True):
            first, last = int(batch["offset"].min()), int(batch["offset"].max())
            ax.add_patch(mpatches.Rectangle((first - 0.03, y - 0.4), last - first + 0.96, 0.8, fill=False,
                                            edgecolor="black", linewidth=0.8))
        if len(frame):
            end = max(end, int(frame["offset"].max()) + 1)
    ax.set_xlim(-0.5, end + 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), [f"partition {p}" for p in rows])
    ax.set_xlabel("offset (each partition counts from 0; black outlines are record batches)")
    ax.set_title(title or f"records by offset, coloured by {colour_by}")
    handles = [mpatches.Patch(color=c, label=str(v)) for v, c in colour.items()]
    if handles:
        ax.legend(handles=handles, frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_log_segments(
    segments: pd.DataFrame,
    ax=None,
    *,
    log_start_offset: int | None = None,
    title: str | None = None,
):
    """One partition's segments (a :func:`segment_table`) as bars along the offset axis,
    each labelled with its file name and size, its offset-index entries marked with ticks
    (where a read can seek to), the active segment hatched, and -- when
    ``log_start_offset`` is given -- the segments wholly below it greyed out as deleted by
    retention. Returns the Axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(11, 0.8 + 0.55 * max(1, len(segments))))
    for y, row in enumerate(segments.itertuples(index=False)):
        deleted = log_start_offset is not None and row.next_offset <= log_start_offset
        width = max(row.next_offset - row.base_offset, 0.4)
        ax.barh(y, width, left=row.base_offset, height=0.6,
                color=_DELETED if deleted else _PALETTE[0], alpha=0.9,
                hatch="//" if row.active and not deleted else None, edgecolor="white")
        for offset, _position in row.index_entries:
            ax.plot([offset, offset], [y - 0.38, y + 0.38], color="black", linewidth=1)
        state = " (deleted)" if deleted else (" (active)" if row.active else "")
        ax.annotate(f"{row.file}  {row.bytes:,} B{state}", (row.base_offset, y - 0.32), fontsize=7,
                    va="bottom", color="#555" if deleted else "black")
    if log_start_offset is not None:
        ax.axvline(log_start_offset, color="#c0392b", linestyle="--", label=f"log start offset {log_start_offset}")
        ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.set_yticks(range(len(segments)), [f"segment {b}" for b in segments["base_offset"]])
    ax.set_ylim(len(segments) - 0.5, -0.8)
    ax.set_xlabel("offset (ticks: offset-index entries)")
    ax.set_title(title or "segments of one partition")
    return ax
