"""The clock: times are stored as naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Naive UTC, as stored."""
    return datetime.now(UTC).replace(tzinfo=None)
