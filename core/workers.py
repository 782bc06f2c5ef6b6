"""Worker threads for vendor calls that a stop request abandons instead of waiting for.

``concurrent.futures.ThreadPoolExecutor`` cannot do this: leaving its ``with`` block waits for the calls
in flight, and even without that, the interpreter joins its (non-daemon) threads at exit. So the first
Ctrl-C or SIGTERM waited for the slowest listing in flight: with the default timeout and retries longer
than systemd's stop timeout. Here the threads are daemon threads and a waiting caller wakes when its
``cancel`` event is set: a call in flight is left to finish or fail unseen, and its result is never
used, so nothing of it is written.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from core.errors import IntegratorError

T = TypeVar("T")
R = TypeVar("R")
POLL_SECONDS = 0.1  # how often a waiting caller looks at its cancel event


class Abandoned(IntegratorError):
    """A stop was requested while a vendor call was in flight: the call was abandoned, nothing of it written."""

    def __init__(self, what: str = "a vendor call") -> None:
        super().__init__(f"stopped: {what} in flight was abandoned; nothing of it was written")


def wait(future: Future[T], cancel: threading.Event | None, what: str = "a vendor call") -> T:
    """The future's result, or :class:`Abandoned` as soon as ``cancel`` is set."""
    while True:
        if cancel is not None and cancel.is_set() and not future.done():
            future.cancel()
            raise Abandoned(what)
        try:
            return future.result(timeout=POLL_SECONDS if cancel is not None else None)
        except FutureTimeout:
            continue


class Workers:
    """Up to ``size`` daemon threads, started as work arrives. Leaving the ``with`` block never waits."""

    def __init__(self, size: int, name: str = "worker") -> None:
        self.size, self.name = max(1, size), name
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue())
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        future: Future[R] = Future()
        self._tasks.put((future, fn, args))
        with self._lock:
            if len(self._threads) < self.size:
                thread = threading.Thread(target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, fn, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def close(self) -> None:
        """Cancel what has not started and let the threads end; calls in flight are not waited for."""
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        with self._lock:
            for _ in self._threads:
                self._tasks.put(None)

    def call(self, fn: Callable[..., R], *args: Any, cancel: threading.Event | None, what: str = "a vendor call") -> R:
        """``fn(*args)`` on a worker; :class:`Abandoned` as soon as ``cancel`` is set while it runs."""
        return wait(self.submit(fn, *args), cancel, what)

    def map_bounded(self, fn: Callable[[T], R], items: Iterable[T], window: int,
                    cancel: threading.Event | None = None) -> Iterator[R]:
        """``map`` in order with at most ``window`` calls in flight or waiting to be consumed (memory stays
        flat however many items there are). When ``cancel`` is set it ends at once: the calls in flight
        are abandoned and their results never yielded."""
        pending: deque[Future[R]] = deque()
        source = iter(items)
        for item in source:
            pending.append(self.submit(fn, item))
            if len(pending) >= window:
                break
        while pending:
            try:
                result = wait(pending[0], cancel)
            except Abandoned:
                for future in pending:
                    future.cancel()
                return
            pending.popleft()
            for item in source:
                pending.append(self.submit(fn, item))
                break
            yield result


def call_abandonable(fn: Callable[..., R], *args: Any, cancel: threading.Event | None,
                     what: str = "a vendor call") -> R:
    """One vendor call (a login, the company listing) that a stop request abandons; without a cancel
    event it simply runs here."""
    if cancel is None:
        return fn(*args)
    with Workers(1, name="vendor-call") as one:
        return one.call(fn, *args, cancel=cancel, what=what)
