"""One sync of an integration at a time, across processes, through a row in the database."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections import Counter
from collections.abc import Iterator

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import IntegrationLock, SyncRun
from core.errors import LockedError
from core.store import now


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_stale_runs(sessions: sessionmaker[Session], vendor: str) -> int:
    """Mark 'running' runs of this host whose process is gone as failed; return how many."""
    host = socket.gethostname()
    count = 0
    with sessions.begin() as session:
        runs = session.scalars(select(SyncRun).where(SyncRun.vendor == vendor, SyncRun.status == "running"))
        for run in runs:
            if run.host == host and run.pid is not None and run.pid != os.getpid() and not _alive(run.pid):
                run.status = "failed"
                run.finished_at = now()
                run.errors = [*(run.errors or []),
                              f"the process {run.pid} running this sync stopped before it finished"]
                count += 1
    return count


def _try_acquire(sessions: sessionmaker[Session], vendor: str) -> tuple[bool, IntegrationLock | None]:
    host, pid = socket.gethostname(), os.getpid()
    with sessions.begin() as session:
        if session.get(IntegrationLock, vendor) is None:
            try:
                with session.begin_nested():
                    session.add(IntegrationLock(vendor=vendor))
            except IntegrityError:
                pass
    with sessions.begin() as session:
        taken = session.execute(
            update(IntegrationLock).where(IntegrationLock.vendor == vendor, IntegrationLock.pid.is_(None))
            .values(host=host, pid=pid, acquired_at=now())
        ).rowcount
        if taken == 1:
            return True, None
        holder = session.get(IntegrationLock, vendor)
        if holder is not None and holder.host == host and holder.pid is not None and not _alive(holder.pid):
            stolen = session.execute(
                update(IntegrationLock).where(IntegrationLock.vendor == vendor, IntegrationLock.pid == holder.pid)
                .values(host=host, pid=pid, acquired_at=now())
            ).rowcount
            if stolen == 1:
                return True, None
        session.expunge_all()
        return False, holder


_held: Counter[str] = Counter()  # re-entrancy within this process: a run holds it across its entities


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
    try:
        yield
    finally:
        _held[vendor] -= 1
        with sessions.begin() as session:
            session.execute(update(IntegrationLock).where(
                IntegrationLock.vendor == vendor, IntegrationLock.pid == os.getpid()
            ).values(host=None, pid=None, acquired_at=None))
