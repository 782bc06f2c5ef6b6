"""One sync of an integration at a time, across processes and machines, held by the database engine itself.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a connection of its own
and kept for the whole run. The server releases it when that connection or the process ends, so a
killed holder's lock is free at once, and a paused one (SIGSTOP, a paused VM, a clock that jumps)
keeps it for as long as it lives: no heartbeat, no timeout, no clock is compared with another.

SQLite: an OS lock (``flock``, through ``filelock``) on a file beside the database, ``<db>.<vendor>.lock``,
which the kernel releases when the process dies. An in-memory database is seen by this process
only, so a lock within the process is enough there.

Fencing: while a thread holds an integration's lock, every commit it makes first checks, inside the
transaction, that the lock is still held; a run that lost it (its lock connection was cut) raises
``LockLostError`` and writes nothing more. Once a process holds the lock, any run of that
integration still marked "running" belonged to a holder that died or lost the lock: it is marked
failed. (The ``integration_locks`` table of earlier releases is no longer used.)
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import filelock
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.db import reason
from core.db.clock import now
from core.db.models import RunStatus, SyncRun
from core.errors import DatabaseError, LockedError, LockLostError

# Advisory lock keys are (space, crc32 of the vendor name): stable across releases and machines. The
# fence space is taken shared by each commit of a holder and exclusively, for a moment, by a new
# holder, so that a commit already past its check finishes before the new holder starts.
LOCK_SPACE = 0x1A7E
FENCE_SPACE = 0x1A7F
POLL_SECONDS = 0.2


class _EngineLock(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self, session: Session) -> bool: ...

    def release(self) -> None: ...


def _key(vendor: str) -> int:
    return zlib.crc32(vendor.encode("utf-8")) & 0x7FFFFFFF


class _PostgresLock:
    """A session-level advisory lock on a connection of its own, outside any transaction."""

    def __init__(self, engine: Engine, vendor: str) -> None:
        self.engine, self.vendor, self.key = engine, vendor, _key(vendor)
        self.connection: Connection | None = None
        self.backend = 0

    def _run(self, sql: str, **params: object) -> object:
        assert self.connection is not None
        return self.connection.execute(text(sql), {"key": self.key, **params}).scalar()

    def try_acquire(self) -> bool:
        self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            # Seen in pg_stat_activity; keepalives let the server notice a vanished machine in about a
            # minute (and free its lock) instead of the operating system's two hours.
            self._run("SELECT set_config('application_name', :name, false), "
                      "set_config('tcp_keepalives_idle', '30', false), "
                      "set_config('tcp_keepalives_interval', '10', false), "
                      "set_config('tcp_keepalives_count', '3', false)", name=f"integrator lock {self.vendor}"[:63])
            if int(str(self._run("SELECT current_setting('server_version_num')"))) >= 140000:
                self._run("SELECT set_config('idle_session_timeout', '0', false)")
            if not self._run("SELECT pg_try_advisory_lock(CAST(:space AS integer), CAST(:key AS integer))",
                             space=LOCK_SPACE):
                self._close()
                return False
            self.backend = int(str(self._run("SELECT pg_backend_pid()")))
            # A holder that lost its lock may be committing right now, past its check: let it finish.
            self._run("SELECT pg_advisory_lock(CAST(:space AS integer), CAST(:key AS integer))", space=FENCE_SPACE)
            self._run("SELECT pg_advisory_unlock(CAST(:space AS integer), CAST(:key AS integer))", space=FENCE_SPACE)
        except BaseException:
            self._close()
            raise
        return True

    def still_held(self, session: Session) -> bool:
        params = {"space": FENCE_SPACE, "lock_space": LOCK_SPACE, "key": self.key, "backend": self.backend}
        session.execute(text("SELECT pg_advisory_xact_lock_shared(CAST(:space AS integer), CAST(:key AS integer))"),
                        params)
        held = session.execute(text(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = :backend "
            "AND classid = CAST(:lock_space AS oid) AND objid = CAST(:key AS oid) AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"), params).first()
        return held is not None

    def release(self) -> None:
        with contextlib.suppress(SQLAlchemyError):  # a lost connection has released it already
            self._run("SELECT pg_advisory_unlock(CAST(:space AS integer), CAST(:key AS integer))", space=LOCK_SPACE)
        self._close()

    def _close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self.connection.invalidate()  # never back to the pool with our settings
                self.connection.close()
            self.connection = None


class _FileLock:
    """An OS lock on a file beside the SQLite database; the kernel releases it when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.lock = filelock.FileLock(path, timeout=0, thread_local=False, fallback_to_soft=False)
        except TypeError:  # filelock 3 has no soft fallback to turn off
            self.lock = filelock.FileLock(path, timeout=0, thread_local=False)
        self.inode = 0

    def try_acquire(self) -> bool:
        try:
            self.lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        except (OSError, NotImplementedError) as exc:
            raise DatabaseError(f"cannot lock {self.path}: {exc}; the database must be on a file system with "
                                "file locks (flock)") from None
        self.inode = self.path.stat().st_ino
        return True

    def still_held(self, session: Session) -> bool:
        try:  # the file deleted or replaced under us: another process may lock the new one
            return self.lock.is_locked and self.path.stat().st_ino == self.inode
        except OSError:
            return False

    def release(self) -> None:
        self.lock.release()


class _ProcessLock:
    """An in-memory SQLite database: no other process can see it, so a lock within this one."""

    _locks: dict[tuple[str, str], threading.Lock] = {}
    _guard = threading.Lock()

    def __init__(self, engine: Engine, vendor: str) -> None:
        with self._guard:
            self.lock = self._locks.setdefault((str(engine.url), vendor), threading.Lock())

    def try_acquire(self) -> bool:
        return self.lock.acquire(blocking=False)

    def still_held(self, session: Session) -> bool:
        return True

    def release(self) -> None:
        self.lock.release()


def _sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite URL, or None when it lives in memory."""
    url = make_url(str(engine.url))
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename: sqlite:///file:path?mode=...&uri=true
        path, _, query = database[5:].partition("?")
        if "mode=memory" in query or "mode=memory" in str(url.query) or path in ("", ":memory:"):
            return None
        database = path
    if database in ("", ":memory:"):
        return None
    return Path(os.path.realpath(database))


def _engine_lock(engine: Engine, vendor: str) -> _EngineLock:
    backend = engine.dialect.name
    if backend == "postgresql":
        return _PostgresLock(engine, vendor)
    if backend == "sqlite":
        database = _sqlite_file(engine)
        if database is None:
            return _ProcessLock(engine, vendor)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", vendor)
        return _FileLock(database.with_name(f"{database.name}.{safe}.lock"))
    raise DatabaseError(f"syncing needs PostgreSQL or SQLite, whose own locks keep two processes from syncing "
                        f"one integration at once; this database is {backend}")


@dataclass
class _Hold:
    vendor: str
    engine: Engine
    lock: _EngineLock
    thread: int
    depth: int = 1


_holds: dict[tuple[int, str], _Hold] = {}  # (id of the engine, vendor): the holds of this process
_holds_guard = threading.Lock()


def _engine_of(sessions: sessionmaker[Session]) -> Engine:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("integration_lock needs a sessionmaker bound to an engine")
    return bind


def _fence(session: Session) -> None:
    """Before a commit of a thread that holds a lock on this database: is it still held?"""
    me = threading.get_ident()
    with _holds_guard:
        mine = [h for h in _holds.values() if h.thread == me and h.engine is session.bind]
    for hold in mine:
        if not hold.lock.still_held(session):
            raise LockLostError(f"integration {hold.vendor!r} lost its lock (its database connection was cut or "
                                "its lock file removed); this sync stopped and wrote nothing more, and the next "
                                "sync will mark its run failed")


def _holder(sessions: sessionmaker[Session], vendor: str) -> str:
    """Who holds it, as far as the runs they record say (a lock of the engine carries no name)."""
    try:
        with sessions() as session:
            run = session.scalars(select(SyncRun).where(SyncRun.vendor == vendor, SyncRun.status == RunStatus.RUNNING)
                                  .order_by(SyncRun.id.desc()).limit(1)).first()
    except SQLAlchemyError:
        run = None
    if run is None or run.pid is None:
        return "another process"
    return f"process {run.pid} on {run.host or '?'} (since {run.started_at.isoformat(timespec='seconds')} UTC)"


def _fail_abandoned_runs(sessions: sessionmaker[Session], vendor: str) -> int:
    """We hold the lock: a run of this integration still 'running' was left by a holder that is gone."""
    with sessions.begin() as session:
        runs = list(session.scalars(select(SyncRun).where(SyncRun.vendor == vendor,
                                                          SyncRun.status == RunStatus.RUNNING)))
        for run in runs:
            run.status = RunStatus.FAILED
            run.finished_at = now()
            run.errors = [*(run.errors or []), f"the process {run.pid} on {run.host or '?'} running this sync "
                          "stopped, or lost its lock, before it finished"]
    return len(runs)


def _acquire(sessions: sessionmaker[Session], engine: Engine, vendor: str, wait: float) -> _EngineLock:
    deadline = time.monotonic() + wait
    while True:
        lock = _engine_lock(engine, vendor)
        try:
            if lock.try_acquire():
                return lock
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot take the lock of integration {vendor!r}: {reason(exc)}") from None
        if time.monotonic() >= deadline:
            raise LockedError(f"integration {vendor!r} is being synced by {_holder(sessions, vendor)}; wait for it "
                              "to finish, or use 'run --once --skip-locked' to sync the others")
        time.sleep(min(POLL_SECONDS, max(0.01, deadline - time.monotonic())))


@contextlib.contextmanager
def integration_lock(sessions: sessionmaker[Session], vendor: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the integration's lock; raise LockedError if another process (or thread) holds it past ``wait``.

    Re-entrant within a thread: a run holds it across its entities.
    """
    engine = _engine_of(sessions)
    slot = (id(engine), vendor)
    with _holds_guard:
        hold = _holds.get(slot)
        if hold is not None and hold.thread == threading.get_ident():
            hold.depth += 1
    if hold is not None and hold.thread == threading.get_ident():
        try:
            yield
        finally:
            with _holds_guard:
                hold.depth -= 1
        return
    if not event.contains(sessions, "before_commit", _fence):
        event.listen(sessions, "before_commit", _fence)
    lock = _acquire(sessions, engine, vendor, wait)
    hold = _Hold(vendor, engine, lock, threading.get_ident())
    with _holds_guard:
        _holds[slot] = hold
    try:
        _fail_abandoned_runs(sessions, vendor)
        yield
    finally:
        with _holds_guard:
            _holds.pop(slot, None)
        lock.release()
