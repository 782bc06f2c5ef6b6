"""The settings every integration shares. A plugin subclasses ``VendorSettings`` for its own keys."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.redact import mask_url

Entity = Literal["customers", "subscriptions"]
ENTITY_ORDER: tuple[str, ...] = ("customers", "subscriptions")


_DURATION = re.compile(r"\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*", re.I)


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``2h``, ``1h30m``, ``90s`` -> a timedelta; None when it is not one."""
    match = _DURATION.fullmatch(text)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class IntegratorSchedule(StrictModel):
    """The daemon's settings for one integration."""

    enabled: bool = False
    entities_to_sync: list[Entity] = Field(default_factory=lambda: ["customers", "subscriptions"])
    run_at: str = "02:00"
    # After a failed sync the daemon tries again after this long, then waits twice as long each time,
    # until a sync succeeds or the next run_at is due. "off" (or false): no retry.
    retry_after_failure: str | bool = "30m"

    @field_validator("retry_after_failure")
    @classmethod
    def _check_retry(cls, value: str | bool) -> str:
        if value is False:
            return "off"
        if value is True or parse_duration(value) is None and value.strip().lower() not in ("off", "0"):
            raise ValueError(f"retry_after_failure must be a duration such as 30m, 2h or 90s, or off; not {value!r}")
        return value.strip().lower()

    def retry_delay(self) -> timedelta | None:
        """The first wait after a failed sync; None: no retry."""
        delay = parse_duration(str(self.retry_after_failure))
        return delay if delay else None

    @field_validator("run_at")
    @classmethod
    def _check_run_at(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"run_at must be a local time HH:MM (00:00 to 23:59), not {value!r}")
        return value

    def ordered_entities(self) -> list[str]:
        """Customers before subscriptions, whatever order the YAML lists them in."""
        return [e for e in ENTITY_ORDER if e in self.entities_to_sync]


class VendorSettings(StrictModel):
    """Settings common to every vendor integration (``integrations.<name>`` in the YAML)."""

    enabled: bool = True
    top_level_for_new_customers: str | None = Field(default=None, max_length=255)  # the customers column
    update_main_site_address: bool = False
    customer_subscriptions_to_import: Literal["all"] | list[str | int] = "all"
    set_price_and_cost: bool = False
    deactivate_deleted_licences: bool = False
    # Share of a customer's active licences one run may deactivate or zero before it is held back.
    mass_deactivation_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # How many per-customer listings run at once.
    max_concurrency: int = Field(default=8, ge=1, le=64)
    integrator: IntegratorSchedule = Field(default_factory=IntegratorSchedule)


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_vendor_url(url: str) -> str:
    """Accept https anywhere and plain http only on loopback; return the URL without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Shown without its path and query (a webhook's secret) and with any password masked.
        shown = mask_url(f"{parts.scheme}://{parts.netloc}") if parts.scheme and parts.netloc else "this value"
        raise ValueError(f"{shown!r} is not an http(s) URL such as https://marketplace.example.com")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(f"plain http:// is refused for {parts.hostname}: use https://")
    return url.strip().rstrip("/")
