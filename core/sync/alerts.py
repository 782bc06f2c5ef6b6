"""Telling a person when a sync needs attention: a webhook and/or an e-mail.

Events: ``failed`` (a run failed), ``partial`` (a run finished with errors), ``held_back`` (the
mass-deactivation guard held licences back), ``stale`` (no successful sync for too long) and
``leak`` (``billing reconcile`` found the vendor billing something no customer is charged for).
A failure to notify is logged; it never fails the sync.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from core.config.secrets import read_secret_file
from core.config.settings import check_vendor_url
from core.redact import mask_urls_in, short_reason, url_origin

log = logging.getLogger(__name__)
Event = Literal["failed", "partial", "held_back", "stale", "leak"]


class EmailAlerts(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    smtp_host: str
    smtp_port: int = 587
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    username: str | None = None
    password: SecretStr | None = None
    password_file: str | None = None
    starttls: bool = True

    @model_validator(mode="before")
    @classmethod
    def _password_file(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("password_file"):
            return {**data, "password": read_secret_file(str(data["password_file"]))}
        return data


class AlertSettings(BaseModel):
    """``alerts:`` in the configuration."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, allow_inf_nan=False)

    webhook_url: str | None = None
    email: EmailAlerts | None = None
    on: list[Event] = Field(default_factory=lambda: ["failed", "partial", "held_back", "stale", "leak"])
    timeout_seconds: float = 10.0

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return check_vendor_url(value) if value else value


def events_of(status: str, held_back: int) -> list[Event]:
    events: list[Event] = []
    if status == "failed":
        events.append("failed")
    elif status == "partial":
        events.append("partial")
    if held_back:
        events.append("held_back")
    return events


def notify(settings: AlertSettings | None, event: Event, payload: dict[str, Any]) -> int:
    """Send one alert to every configured channel; returns how many accepted it."""
    if settings is None or event not in settings.on:
        return 0
    body = {"event": event, **payload}
    subject = f"psa-integrator: {event}: {payload.get('summary', '')}".strip()
    delivered = 0
    if settings.webhook_url:
        import requests  # only when an alert is sent: commands that send none do not load the HTTP stack

        try:
            response = requests.post(settings.webhook_url, json=body, timeout=settings.timeout_seconds)
            response.raise_for_status()
            delivered += 1
        except requests.RequestException as exc:
            # A webhook URL is a secret (Slack and Teams keep it in the path): scheme and host only.
            log.warning("alert webhook %s failed: %s", url_origin(settings.webhook_url),
                        webhook_failure(exc, settings.webhook_url))
    if settings.email is not None:
        import smtplib  # only when an alert is sent (smtplib brings ssl and the email package)

        try:
            _send_email(settings.email, subject, json.dumps(body, indent=2, ensure_ascii=False),
                        settings.timeout_seconds)
            delivered += 1
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("alert e-mail through %s failed: %s", settings.email.smtp_host, exc)
    return delivered


def webhook_failure(exc: Exception, url: str) -> str:
    """Why a webhook call failed, on one line, with nothing of the URL's path, query or userinfo."""
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code}"
    text = short_reason(exc)
    parts = urlsplit(url)
    for secret in (url, parts.path + ("?" + parts.query if parts.query else ""), parts.query, parts.path):
        if len(secret) > 1:
            text = text.replace(secret, "/***")
    return mask_urls_in(text)[:200]


def _send_email(email: EmailAlerts, subject: str, text: str, timeout: float) -> None:
    import smtplib
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message.set_content(text)
    with smtplib.SMTP(email.smtp_host, email.smtp_port, timeout=timeout) as smtp:
        if email.starttls:
            smtp.starttls()
        if email.username and email.password is not None:
            smtp.login(email.username, email.password.get_secret_value())
        smtp.send_message(message)
