"""Subscription listings fetched and mapped in worker processes, when one core is not enough.

A large run (more than :data:`THRESHOLD` customers) on a machine with at least :data:`MIN_AUTO_CORES`
cores, one of them free, spreads its listings over worker processes (``INTEGRATOR_LISTING_PROCESSES``
overrides: 0 or 1 = off, N = N processes). The
workers never log in: the parent's login is handed to them through the pool's start-up arguments (a
pipe, never a file or a log) by the plugin's ``Connection.share``; a plugin without it is listed in
threads as before. Workers only fetch and map a customer's subscriptions and send back plain records,
in run order; the parent plans and writes them as it does for threads, so the result never depends on
how the work was split. A stop terminates the workers: the listings in flight are never used.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from core.errors import ConfigError, IntegratorError
from core.host.plugins import VendorFacade, get_plugin_manager, register
from core.types import Connection, Listing, VendorCustomer, VendorSubscription
from core.workers import Abandoned, Workers, wait

ENV = "INTEGRATOR_LISTING_PROCESSES"
THRESHOLD = 2000  # customers in a run before worker processes are worth their start-up
MAX_AUTO = 4  # processes chosen without the setting, at most
MIN_AUTO_CORES = 3  # cores this process may use before processes are chosen without the setting
CHUNK = 50  # customers per task sent to a worker

T = TypeVar("T")
Result = tuple[Listing[VendorSubscription] | None, str | None]


def _module_of(facade: VendorFacade) -> str | None:
    """The importable module the vendor's plugin is (a worker process registers it again), else None."""
    plugin = facade.plugin()
    name = getattr(plugin, "__name__", None)
    return name if isinstance(name, str) and sys.modules.get(name) is plugin else None


def processes_for(customers: int, connection: Connection, facade: VendorFacade) -> int:
    """How many listing worker processes this run uses: 0 means threads only."""
    if connection.share is None or _module_of(facade) is None:
        return 0
    raw = os.environ.get(ENV, "").strip()
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            wanted = -1
        if wanted < 0:
            raise ConfigError(f"{ENV}={raw!r}: must be a whole number of processes (0 or 1: off)")
        return wanted if wanted >= 2 else 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    # Measured on a busy 2-core machine, processes made a 10,000-company run slower (README, Performance):
    # without the setting they are used only with at least 3 cores and one of them idle by the load average.
    free = cores - os.getloadavg()[0]
    return min(cores - 1, MAX_AUTO) if customers > THRESHOLD and cores >= MIN_AUTO_CORES and free >= 1 else 0


# -- in the worker process ---------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _start(opener: Callable[[], Connection], vendor: str, module: str, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop, and terminates us
    pm = get_plugin_manager(load_entry_points=False)
    register(pm, importlib.import_module(module), vendor)
    _worker.update(facade=VendorFacade(pm, vendor), connection=opener(), pool=Workers(threads, name="listing"),
                   threads=threads)


def _list_one(company: VendorCustomer) -> Result:
    try:
        return _worker["facade"].list_subscriptions(_worker["connection"], company), None
    except IntegratorError as exc:
        return None, str(exc)


def _list_chunk(companies: list[VendorCustomer]) -> list[Result]:
    pool: Workers = _worker["pool"]
    return list(pool.map_bounded(_list_one, companies, _worker["threads"] * 2))


# -- in the parent -----------------------------------------------------------------------------------

class ListingProcesses:
    """``processes`` worker processes listing subscriptions with ``threads`` calls in flight each."""

    def __init__(self, processes: int, connection: Connection, facade: VendorFacade, threads: int) -> None:
        assert connection.share is not None
        self.processes = processes
        self._executor = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
            initargs=(connection.share(), facade.vendor, _module_of(facade), max(1, threads)))

    def __enter__(self) -> ListingProcesses:
        return self

    def __exit__(self, kind: object, *_exc: object) -> None:
        if kind is None:  # done: the workers are idle; let them end (and be waited for)
            self._executor.shutdown(wait=True, cancel_futures=True)
        else:
            self.close()

    def map(self, targets: Sequence[T], company: Callable[[T], VendorCustomer],
            cancel: threading.Event | None) -> Iterator[tuple[T, Listing[VendorSubscription] | None, str | None]]:
        """Each target's listing (or its error), in run order; ends at once when ``cancel`` is set."""
        chunks = (targets[i:i + CHUNK] for i in range(0, len(targets), CHUNK))
        pending: deque[tuple[Sequence[T], Future[list[Result]]]] = deque()

        def submit() -> None:
            for chunk in chunks:
                pending.append((chunk, self._executor.submit(_list_chunk, [company(t) for t in chunk])))
                return

        for _ in range(self.processes * 4):
            submit()
        while pending:
            chunk, future = pending[0]
            try:
                results = wait(future, cancel, "the listings")
            except Abandoned:
                self.close()
                return
            except BrokenProcessPool:
                raise IntegratorError("a listing worker process ended unexpectedly; "
                                      f"try again with {ENV}=0") from None
            pending.popleft()
            submit()
            for target, (listing, error) in zip(chunk, results, strict=True):
                yield target, listing, error

    def close(self) -> None:
        """Stop at once: tasks not started are cancelled, the workers terminated (nothing in flight is used)."""
        processes = list((getattr(self._executor, "_processes", None) or {}).values())
        for process in processes:
            if process.is_alive():
                process.terminate()
        self._executor.shutdown(wait=False, cancel_futures=True)
