"""Telling a person when a sync needs attention: a webhook and/or an e-mail.

Events: ``failed`` (a run failed), ``partial`` (a run finished with errors), ``held_back`` (the
mass-deactivation guard held licences back), ``stale`` (no successful sync for too long) and
``leak`` (``billing reconcile`` found the vendor billing something no customer is charged for).
A failure to notify is logged; it never fails the sync.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from core.config.alerts import AlertSettings, EmailAlerts, Event
from core.db.models import RunStatus
from core.redact import mask_urls_in, short_reason, url_origin

log = logging.getLogger(__name__)
def events_of(status: str, held_back: int) -> list[Event]:
    events: list[Event] = []
    if status == RunStatus.FAILED:
        events.append("failed")
    elif status == RunStatus.PARTIAL:
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
            log.warning("alert e-mail through %s:%s failed: %s", settings.email.smtp_host, settings.email.smtp_port,
                        email_failure(exc))
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


def email_failure(exc: Exception) -> str:
    """Why an alert e-mail was not sent, on one line a person can act on."""
    import smtplib
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        why = (exc.verify_message or short_reason(exc)).rstrip(".")
        hint = ("set alerts.email.smtp_host to a name the certificate carries" if "mismatch" in why else
                "if a private CA signed it, set alerts.email.ca_file to that CA's certificate (PEM)")
        return f"the server's TLS certificate was not accepted ({why}); nothing was sent: {hint}"
    if isinstance(exc, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(exc):
        return ("the server does not offer STARTTLS, so the password was not sent; use alerts.email.tls: ssl "
                "if it expects TLS from the first byte (port 465)")
    return short_reason(exc)


def _send_email(email: EmailAlerts, subject: str, text: str, timeout: float) -> None:
    import smtplib
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message.set_content(text)
    context = None
    if email.tls != "none":
        import ssl

        # The default context checks the certificate chain and the host name (smtplib's starttls()
        # without a context checks neither).
        context = ssl.create_default_context(cafile=email.ca_file)
    if email.tls == "ssl":
        smtp = smtplib.SMTP_SSL(email.smtp_host, email.smtp_port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(email.smtp_host, email.smtp_port, timeout=timeout)
    with smtp:
        if email.tls == "starttls":
            smtp.starttls(context=context)
        if email.username and email.password is not None:
            smtp.login(email.username, email.password.get_secret_value())
        smtp.send_message(message)
