"""One sync of an integration at a time, across processes and machines, through a row in the database.

The holder refreshes a heartbeat; a lock whose holder died (its process is gone on this host, or its
heartbeat stopped on any host) is taken over, and the runs it left "running" are marked failed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import IntegrationLock, SyncRun
from core.errors import LockedError
from core.store import now

HEARTBEAT_SECONDS = 30.0
STALE_AFTER = timedelta(minutes=5)  # a holder silent this long is taken to be dead, on any host

_held: Counter[str] = Counter()  # re-entrancy within this process: a run holds it across its entities


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _me() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def _is_dead(holder: IntegrationLock) -> bool:
    host, _ = _me()
    if holder.pid is None:
        return True
    if holder.host == host and not _alive(holder.pid):
        return True
    beat = holder.heartbeat_at or holder.acquired_at
    return beat is not None and now() - beat > STALE_AFTER


def _fail_runs_of(session: Session, vendor: str, host: str | None, pid: int | None) -> None:
    runs = session.scalars(select(SyncRun).where(SyncRun.vendor == vendor, SyncRun.status == "running",
                                                 SyncRun.host == host, SyncRun.pid == pid))
    for run in runs:
        run.status = "failed"
        run.finished_at = now()
        run.errors = [*(run.errors or []), f"the process {pid} running this sync stopped before it finished"]


def recover_stale_runs(sessions: sessionmaker[Session], vendor: str) -> int:
    """Mark 'running' runs of this host whose process is gone as failed; return how many."""
    host, me = _me()
    count = 0
    with sessions.begin() as session:
        runs = session.scalars(select(SyncRun).where(SyncRun.vendor == vendor, SyncRun.status == "running",
                                                     SyncRun.host == host))
        for pid in {r.pid for r in runs if r.pid is not None and r.pid != me and not _alive(r.pid)}:
            _fail_runs_of(session, vendor, host, pid)
            count += 1
    return count


def _try_acquire(sessions: sessionmaker[Session], vendor: str) -> tuple[bool, IntegrationLock | None]:
    host, pid = _me()
    with sessions.begin() as session:
        if session.get(IntegrationLock, vendor) is None:
            try:
                with session.begin_nested():
                    session.add(IntegrationLock(vendor=vendor))
            except IntegrityError:
                pass
    mine = {"host": host, "pid": pid, "acquired_at": now(), "heartbeat_at": now()}
    with sessions.begin() as session:
        taken = session.execute(update(IntegrationLock).where(
            IntegrationLock.vendor == vendor, IntegrationLock.pid.is_(None)).values(**mine)).rowcount
        if taken == 1:
            return True, None
        holder = session.get(IntegrationLock, vendor)
        if holder is not None and _is_dead(holder):
            dead_host, dead_pid = holder.host, holder.pid  # the update below refreshes ``holder`` in place
            # Compare-and-set on the holder we saw, so two processes never both take over.
            seen = and_(IntegrationLock.host == dead_host, IntegrationLock.pid == dead_pid)
            stolen = session.execute(update(IntegrationLock).where(
                IntegrationLock.vendor == vendor, or_(seen, IntegrationLock.pid.is_(None))).values(**mine)).rowcount
            if stolen == 1:
                _fail_runs_of(session, vendor, dead_host, dead_pid)
                return True, None
        session.expunge_all()
        return False, holder


def _heartbeat(sessions: sessionmaker[Session], vendor: str, stop: threading.Event) -> None:
    host, pid = _me()
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with sessions.begin() as session:
                session.execute(update(IntegrationLock).where(
                    IntegrationLock.vendor == vendor, IntegrationLock.host == host, IntegrationLock.pid == pid
                ).values(heartbeat_at=now()))
        except SQLAlchemyError:  # a missed beat is retried; five minutes of them release the lock
            pass


@contextlib.contextmanager
def integration_lock(sessions: sessionmaker[Session], vendor: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the integration's lock; raise LockedError if another live process holds it past ``wait``."""
    if _held[vendor]:
        _held[vendor] += 1
        try:
            yield
        finally:
            _held[vendor] -= 1
        return
    deadline = time.monotonic() + wait
    while True:
        acquired, holder = _try_acquire(sessions, vendor)
        if acquired:
            break
        if time.monotonic() >= deadline:
            since = holder.acquired_at.isoformat(timespec="seconds") if holder and holder.acquired_at else "?"
            who = f"process {holder.pid} on {holder.host}" if holder else "another process"
            raise LockedError(f"integration {vendor!r} is being synced by {who} since {since} UTC; "
                              "wait for it to finish")
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
    recover_stale_runs(sessions, vendor)
    _held[vendor] += 1
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(sessions, vendor, stop), name=f"lock-{vendor}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        _held[vendor] -= 1
        host, pid = _me()
        with sessions.begin() as session:
            session.execute(update(IntegrationLock).where(
                IntegrationLock.vendor == vendor, IntegrationLock.host == host, IntegrationLock.pid == pid
            ).values(host=None, pid=None, acquired_at=None, heartbeat_at=None))
