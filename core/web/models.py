"""The web console's tables: its settings and the record of every action taken in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models import Base


class WebSetting(Base):
    """``password_hash`` (scrypt, set by ``integrator web set-password``), ``session_key`` (signs cookies),
    ``env_password_digest`` (which $INTEGRATOR_WEB_PASSWORD_HASH the last start saw) and one
    ``revoked:<digest of the session id>`` per logged-out session, kept for a session's lifetime."""

    __tablename__ = "web_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class WebAction(Base):
    """One thing a person did in the console: what, when, from which session, and how it ended."""

    __tablename__ = "web_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    session: Mapped[str] = mapped_column(String(32))  # a digest of the session id, never the cookie
    client: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))  # ok | failed | refused | started
    detail: Mapped[str | None] = mapped_column(Text)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
