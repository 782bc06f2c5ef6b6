"""The ``billing:`` block of the configuration and the calendar month a charge run covers."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator

from core.errors import UsageError

Mode = Literal["arrears", "advance"]
MODES: tuple[str, ...] = ("arrears", "advance")


class BillingSettings(BaseModel):
    """How charges are computed (top-level ``billing:`` in the YAML; every key optional)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    mode: Mode = "arrears"  # arrears: a month billed after it; advance: at its start, last month corrected
    proration: Literal["daily", "none"] = "daily"  # none: a change counts from the next period
    timezone: str = "UTC"  # the day boundaries for effective dates
    usage_markup_percent: Decimal = Decimal(0)  # usage lines: the vendor's amount x (1 + this / 100)

    @field_validator("usage_markup_percent", mode="before")
    @classmethod
    def _check_markup(cls, value: object) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise ValueError(f"{value!r} is not a number of percent such as 15 or 12.5")
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValueError(f"{value!r} is not a number of percent such as 15 or 12.5") from None
        if not number.is_finite() or number < -100:
            raise ValueError(f"{value!r} is not a number of percent from -100 up, such as 15 or 12.5")
        return number

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone name such as UTC or Europe/Zurich") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def last(self) -> date:
        return date(self.year, self.month, self.days)

    def previous(self) -> Period:
        day = self.first - timedelta(days=1)
        return Period(day.year, day.month)

    def next(self) -> Period:
        day = self.last + timedelta(days=1)
        return Period(day.year, day.month)

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


_PERIOD = re.compile(r"(\d{4})-(\d{1,2})")


def parse_period(text: str) -> Period:
    """``YYYY-MM`` as a Period; anything else is a one-line usage error."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--period {text!r} is not a month written YYYY-MM, e.g. 2026-11")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise UsageError(f"--period {text!r}: there is no month {month} (months run 01 to 12)")
    if not 1900 <= year <= 9998:
        raise UsageError(f"--period {text!r}: the year must be between 1900 and 9998")
    return Period(year, month)
