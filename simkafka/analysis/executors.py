"""Where simulations run: this process, a local process pool, or a Dask cluster.

One interface for the sweep and the planner: ``with open_executor(kind, ...) as ex:`` then
``ex.map(run, texts)`` as often as needed, yielding ``(index, result)`` as points finish.
The pool or cluster is started once and kept for every ``map`` -- the planner asks for a few
points at a time, and a ``LocalCluster`` takes seconds to start. A worker receives each
point's scenario as JSON text (never a pickled object read from disk) and ``run`` validates
it again.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "check_executor", "open_executor"]

ExecutorKind = Literal["inprocess", "pool", "dask"]
EXECUTORS: tuple[str, ...] = ("inprocess", "pool", "dask")
Run = Callable[[str], dict[str, Any]]


class ExecutorError(ValueError):
    """An executor that cannot be used: unknown, bad worker count, unreachable scheduler."""


class Executor:
    """Runs points in this process; the base of the other two."""

    kind = "inprocess"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = 1

    def map(self, run: Run, texts: Mapping[int, str]) -> Iterator[tuple[int, dict[str, Any]]]:
        for index, text in texts.items():
            yield index, run(text)

    def close(self) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Pool(Executor):
    kind = "pool"

    def __init__(self, workers: int | None = None) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(max_workers=self.workers)

    def map(self, run: Run, texts: Mapping[int, str]) -> Iterator[tuple[int, dict[str, Any]]]:
        from concurrent.futures import as_completed

        futures = {self._pool.submit(run, text): i for i, text in texts.items()}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            # Ctrl-C or a failed point: do not start the rest
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Dask(Executor):
    kind = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency, but say what to install if absent
            raise ExecutorError("the dask executor needs dask.distributed: pip install 'dask[distributed]'") from None
        self._cluster = None
        if scheduler is None:
            # bound to loopback: a sweep on one machine listens to nobody else (the
            # scheduler's HTTP server follows its host); another cluster on the default
            # HTTP port only moves ours to a free one, which is not worth a warning
            self.workers = workers or os.cpu_count() or 1
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from None
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    def map(self, run: Run, texts: Mapping[int, str]) -> Iterator[tuple[int, dict[str, Any]]]:
        from distributed import as_completed

        futures = {self._client.submit(run, text, pure=False): i for i, text in texts.items()}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            self._client.cancel(list(futures))

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def check_executor(kind: str, workers: int | None = None, scheduler: str | None = None) -> None:
    """:class:`ExecutorError` for an unknown kind, a bad worker count or a scheduler
    address without Dask -- before anything is started."""
    if kind not in EXECUTORS:
        raise ExecutorError(f"unknown executor {kind!r}: one of {', '.join(EXECUTORS)}")
    if workers is not None and workers < 1:
        raise ExecutorError(f"workers must be at least 1 (got {workers})")
    if scheduler is not None and kind != "dask":
        raise ExecutorError("a scheduler address is for the dask executor only")


def open_executor(kind: str, workers: int | None = None, scheduler: str | None = None) -> Executor:
    """An executor of ``kind`` (one of :data:`EXECUTORS`); close it (or use ``with``)."""
    check_executor(kind, workers, scheduler)
    if kind == "inprocess":
        return Executor()
    if kind == "pool":
        return _Pool(workers)
    return _Dask(workers, scheduler)
