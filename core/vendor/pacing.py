"""Adaptive concurrency for the REST client: find the fastest rate the vendor accepts without a person
tuning ``max_concurrency``.

AIMD, as TCP does it: start at ``max_concurrency`` calls in flight; halve the limit when the vendor
answers 429 or 503, at most once per round trip (the recent duration of a call), so that one burst of
throttled answers from calls already in flight counts once; after each successful call grow it by
``1 / max_concurrency`` (one more call in flight per ``max_concurrency`` successes: slower than TCP's
``1 / limit`` at small limits, because here a refused call costs a backed-off retry), never past
``max_concurrency``.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class PaceReport:
    calls: int
    throttled: int  # 429/503 answers seen (each retried by the transport)
    limit_start: int
    limit_now: int
    limit_lowest: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        text = f"{self.calls} requests at {self.rate:.0f}/s"
        if not self.throttled:
            return text + f", {self.limit_start} in flight"
        return (f"{text}; throttled {self.throttled} time(s) (429/503): in flight backed off from "
                f"{self.limit_start} to {self.limit_lowest}, ended at {self.limit_now}")


class Pacer:
    """A semaphore whose size follows AIMD. Thread-safe: ``ticket = pacer.acquire()`` before a call,
    ``pacer.done(ticket, ok)`` after it.

    Until the vendor first throttles, calls pass without taking a lock (the pool of listing threads
    already bounds them at ``max_concurrency``): 32 threads contending for one lock per call cost
    more CPU than the rest of the call's bookkeeping."""

    def __init__(self, limit: int) -> None:
        self.max_limit = max(1, limit)
        self._limit = float(self.max_limit)
        self.round_trip = 0.05  # seconds; follows the calls' own durations
        self._engaged = False  # True once the vendor has throttled: from then on calls are counted
        self._in_flight = 0
        self._waiting = 0
        self._cond = threading.Condition()
        self._last_cut = float("-inf")
        self._started = time.monotonic()
        self._calls = itertools.count()
        self.calls = 0
        self.throttled = 0
        self.lowest = self.max_limit

    @property
    def limit(self) -> int:
        return int(self._limit)

    def acquire(self) -> tuple[float, bool]:
        if not self._engaged:
            return time.monotonic(), False
        with self._cond:
            while self._in_flight >= int(self._limit):
                self._waiting += 1
                self._cond.wait()
                self._waiting -= 1
            self._in_flight += 1
        return time.monotonic(), True

    def done(self, ticket: tuple[float, bool], ok: bool) -> None:
        """One call finished (``ok``: it got an answer that was not a throttle)."""
        started, counted = ticket
        self.calls = next(self._calls) + 1
        if ok:
            self.round_trip = 0.8 * self.round_trip + 0.2 * (time.monotonic() - started)
        if not counted:
            return
        with self._cond:
            self._in_flight -= 1
            if ok and self._limit < self.max_limit:
                self._limit = min(self.max_limit, self._limit + 1 / self.max_limit)
            if self._waiting:
                self._cond.notify()

    def throttle(self) -> None:
        """The vendor said slow down (429/503): halve the limit, once per cooldown."""
        with self._cond:
            self._engaged = True
            self.throttled += 1
            now = time.monotonic()
            if now - self._last_cut < self.round_trip:
                return
            self._last_cut = now
            self._limit = max(1.0, self._limit / 2)
            self.lowest = min(self.lowest, int(self._limit))

    def report(self) -> PaceReport:
        with self._cond:
            return PaceReport(calls=self.calls, throttled=self.throttled, limit_start=self.max_limit,
                              limit_now=int(self._limit), limit_lowest=self.lowest,
                              seconds=time.monotonic() - self._started)


class RateLimit:
    """A token bucket: at most ``per_minute`` calls a minute on average, in bursts of at most ``burst``
    (default: a second's worth, at least 1). Thread-safe; :meth:`take` waits for a token."""

    def __init__(self, per_minute: float, burst: float | None = None) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.burst = burst if burst is not None else max(1.0, self.rate)
        self._tokens = self.burst
        self._clock, self._sleep = time.monotonic, time.sleep  # replaceable in tests
        self._stamp = self._clock()
        self._lock = threading.Lock()

    def take(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)
