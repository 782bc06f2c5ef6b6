"""The record of what was done in the console: like a CLI run, every action is kept with what, when,
from which session and how it ended (the History page shows it)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.clock import now
from core.web.models import WebAction

log = logging.getLogger("integrator.web")


def record(sessions: sessionmaker[Session], session_label: str, client: str | None, action: str, outcome: str,
           detail: str | None = None, sync_run_id: int | None = None) -> int:
    with sessions.begin() as session:
        row = WebAction(at=now(), session=session_label, client=(client or "")[:64] or None, action=action[:500],
                        outcome=outcome, detail=detail, sync_run_id=sync_run_id)
        session.add(row)
        session.flush()
        action_id = row.id
    log.info("console session %s: %s: %s%s", session_label, action, outcome, f": {detail}" if detail else "")
    return action_id


def finish(sessions: sessionmaker[Session], action_id: int, outcome: str, detail: str | None = None,
           sync_run_id: int | None = None) -> None:
    """Complete the record of an action that ran in the background (an import)."""
    with sessions.begin() as session:
        row = session.get(WebAction, action_id)
        if row is not None:
            row.outcome, row.detail, row.sync_run_id = outcome, detail, sync_run_id
            log.info("console session %s: %s: %s%s", row.session, row.action, outcome,
                     f": {detail}" if detail else "")


def recent(sessions: sessionmaker[Session], limit: int = 100) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(WebAction).order_by(WebAction.id.desc()).limit(limit))
        return [{"id": r.id, "at": r.at.isoformat(timespec="seconds"), "session": r.session, "client": r.client,
                 "action": r.action, "outcome": r.outcome, "detail": r.detail, "sync_run_id": r.sync_run_id}
                for r in rows]
