"""A client of ALSO's Marketplace "Simple API": session, login, faults, re-login.

Every operation is a POST with a JSON body to ``<url>/SimpleAPI/SimpleAPIService.svc/rest/<Op>``.
Errors come back as XML WCF faults. Retries with backoff live in one place, the transport
(urllib3's ``Retry``); re-login on an expired session lives in ``call``: one login per expiry
however many calls are in flight, a refused login remembered and never tried again.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from core.errors import (
    AuthenticationError,
    MfaNotSupportedError,
    PermissionDeniedError,
    SessionExpiredError,
    VendorFaultError,
    VendorProtocolError,
    VendorUnreachableError,
)
from core.redact import mask_url
from plugins.also.pacing import Pacer, PaceReport
from plugins.also.transport import RETRY_STATUSES, THROTTLE_STATUSES, Answer, Transport

log = logging.getLogger(__name__)

API_PATH = "/SimpleAPI/SimpleAPIService.svc/rest/"
RIGHTS_HINT = (
    "the ALSO user needs read rights on customers and subscriptions and the 'Reseller Admin' capabilities role"
)
CREDENTIAL_WORDS = ("sign you in", "username", "password", "credential", "login failed", "not authenticated")
RELOGINS = 3  # a session that dies again right after a fresh login is re-established this many times per call


@dataclass(frozen=True)
class Fault:
    message: str
    session_expired: bool


def parse_fault(body: bytes) -> Fault | None:
    """Read a WCF fault; None when the body is not one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if not root.tag.endswith("Fault"):
        return None
    texts: dict[str, str] = {}
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if element.text and element.text.strip() and local not in texts:
            texts[local] = element.text.strip()
    message = texts.get("Message") or texts.get("Text") or "no message given"
    return Fault(message=message, session_expired=texts.get("IsSessionExpired", "").lower() == "true")


class AlsoClient:
    """One logged-in user of the Simple API. Thread-safe: concurrent calls share one session."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        pool_size: int = 16,
        relogins: int = RELOGINS,
        concurrency: int | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.shown_url = mask_url(self.url)  # what messages show: never a password in the userinfo
        self.base = self.url + API_PATH
        self.host = urlsplit(self.url).hostname or self.shown_url
        self.username = username
        self._password = SecretStr(password)
        self.timeout = timeout
        self.backoff = backoff
        self.relogins = relogins
        self._token: SecretStr | None = None
        self._generation = 0  # +1 per successful login; a thread re-logs in only if it is still current
        self._lock = threading.Lock()  # guards token and generation
        self._login_lock = threading.Lock()  # one login at a time; the others wait and take its token
        self._refused: AuthenticationError | None = None  # a refused login is never tried again
        self.requests_made = 0
        self.logins = 0
        self.pacer = Pacer(concurrency or pool_size)  # calls in flight, backing off on 429/503
        self._transport = Transport(self.base, shown=self.url, timeout=timeout, retries=retries, backoff=backoff,
                                    max_retry_after=max_retry_after, pool_size=pool_size,
                                    on_throttle=self.pacer.throttle)

    def __repr__(self) -> str:
        return f"AlsoClient(url={self.shown_url!r}, username={self.username!r})"

    # -- session -----------------------------------------------------------------------------

    def login(self) -> None:
        """Get a session token. A refusal (wrong password, MFA) is remembered: later logins of this
        client fail at once with the same message, so a run never locks the account out."""
        with self._login_lock:
            self._login()

    def _login(self) -> None:
        if self._refused is not None:
            raise self._refused
        credentials = {"username": self.username, "password": self._password.get_secret_value()}
        answer = self._post("GetSessionToken", credentials, None)
        self.logins += 1
        if answer.status != 200:
            if answer.status in RETRY_STATUSES:
                tries = f"after {answer.tries} tries" if answer.tries > 1 else "(not retried)"
                raise VendorUnreachableError(
                    f"ALSO answered {answer.status} at login {tries}; try again later")
            fault = parse_fault(answer.data)
            if fault is not None:
                self._refused = self._login_error(fault)
                raise self._refused
            self._raise_for(answer, "GetSessionToken")
        token = self._json(answer, "GetSessionToken")
        if not isinstance(token, str) or not token:
            raise VendorProtocolError(f"ALSO GetSessionToken at {self.host} answered without a session token")
        with self._lock:
            self._token = SecretStr(token)
            self._generation += 1

    def _login_error(self, fault: Fault) -> AuthenticationError:
        text = fault.message.lower()
        if "mfa" in text or "multi-factor" in text or "2fa" in text:
            return MfaNotSupportedError(
                f"ALSO user {self.username} has MFA (2FA) enabled, which the Simple API cannot use: "
                f"ask ALSO support to disable 2FA for it, or use an API-only user ({RIGHTS_HINT})"
            )
        hint = ": check username and password" if any(w in text for w in CREDENTIAL_WORDS) else ""
        return AuthenticationError(
            f"ALSO refused the login of {self.username} at {self.host}{hint} (ALSO said: {fault.message})"
        )

    def _renew(self, seen_generation: int) -> tuple[SecretStr | None, int]:
        """Log in again unless another thread already did since ``seen_generation``; the token to use."""
        with self._login_lock:
            with self._lock:
                current = self._generation
            if current == seen_generation:
                if seen_generation:
                    log.info("ALSO session expired; logging in again")
                self._login()
            with self._lock:
                return self._token, self._generation

    def pace(self) -> PaceReport:
        """How fast this client went: requests, rate, throttled answers and the concurrency reached."""
        return self.pacer.report()

    def close(self) -> None:
        pace = self.pacer.report()
        if pace.calls:
            # Throttling is worth a person's attention (the vendor limits this account); the rate otherwise is not.
            log.log(logging.WARNING if pace.throttled else logging.INFO, "ALSO: %s", pace.describe())
        with self._lock:
            token, self._token = self._token, None
        if token is not None:
            try:
                self._post("TerminateSessionToken", {}, token)
            except Exception:  # logging out is a courtesy; a failure must not mask the real result
                log.debug("TerminateSessionToken failed", exc_info=False)
        self._transport.close()

    # -- calls -------------------------------------------------------------------------------

    def call(self, operation: str, body: dict[str, Any] | None = None) -> Any:
        """Call ``operation``. An expired session is renewed (one login for all threads that saw it
        expire); if it keeps expiring right after a fresh login, up to ``relogins`` more times with backoff."""
        with self._lock:
            token, generation = self._token, self._generation
        if token is None:
            token, generation = self._renew(generation)
        payload = body or {}
        renewals = 0
        while True:
            ticket = self.pacer.acquire()
            answer = None
            try:
                answer = self._post(operation, payload, token)
            finally:
                self.pacer.done(ticket, ok=answer is not None and answer.status not in THROTTLE_STATUSES)
            if not self._expired(answer):
                break
            if renewals > self.relogins:
                raise SessionExpiredError(
                    f"ALSO {operation}: the session expired again right after logging in "
                    f"({renewals} times); try again later")
            if renewals:
                delay = min(30.0, self.backoff * 2 ** (renewals - 1))
                time.sleep(delay + random.random() * self.backoff)
            renewals += 1
            token, generation = self._renew(generation)
        if answer.status != 200:
            self._raise_for(answer, operation)
        return self._json(answer, operation)

    def get_company(self) -> dict[str, Any]:
        answer = self.call("GetCompany", {})
        # The spec says array, the live service sends one object: accept both.
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        if not isinstance(answer, dict):
            raise VendorProtocolError("ALSO GetCompany answered something that is not a company")
        return answer

    def get_companies(self, parent_account_id: int) -> list[Any]:
        return self._list("GetCompanies", {"parentAccountId": parent_account_id})

    def get_subscriptions(self, parent_account_id: int) -> list[Any]:
        return self._list("GetSubscriptions", {"parentAccountId": parent_account_id})

    def get_invoices_for_period(self, year: int, month: int) -> list[Any]:
        """The invoices of a closed month: one per customer company, each with its ``Charges``."""
        return self._list("GetLatestInvoicesForPeriod", {"year": year, "month": month})

    def get_preview_invoices(self) -> list[Any]:
        """The projected invoices of the current, still open month."""
        return self._list("GetPreviewInvoices", {})

    def _list(self, operation: str, body: dict[str, Any]) -> list[Any]:
        answer = self.call(operation, body)
        if not isinstance(answer, list):
            raise VendorProtocolError(f"ALSO {operation} answered {type(answer).__name__}, not a list")
        return answer

    # -- answers -----------------------------------------------------------------------------

    def _post(self, operation: str, body: dict[str, Any], token: SecretStr | None) -> Answer:
        headers = {"Authenticate": f"CCPSessionId {token.get_secret_value()}"} if token else None
        self.requests_made += 1
        return self._transport.post(operation, json.dumps(body).encode(), headers)

    @staticmethod
    def _expired(answer: Answer) -> bool:
        if answer.status == 200:
            return False
        if answer.status == 401:
            return True
        fault = parse_fault(answer.data)
        return fault is not None and fault.session_expired

    def _raise_for(self, answer: Answer, operation: str) -> None:
        fault = parse_fault(answer.data)
        if fault is not None:
            text = fault.message.lower()
            if answer.status == 403 or any(
                w in text for w in ("permission", "not authorized", "unauthorized", "access denied", "rights")
            ):
                raise PermissionDeniedError(f"ALSO {operation} was refused: {fault.message} ({RIGHTS_HINT})")
            raise VendorFaultError(f"{operation} failed: {fault.message}")
        status = answer.status
        if status in RETRY_STATUSES:
            raise VendorUnreachableError(
                f"ALSO kept answering {operation} with HTTP {status} after retries; try again later"
            )
        if 300 <= status < 400:
            where = f" to {mask_url(answer.location)}" if answer.location else ""
            raise VendorProtocolError(f"ALSO answered {operation} with a redirect (HTTP {status}){where}: "
                                      f"check that {self.shown_url} is the Marketplace URL")
        kind = "an HTML page" if b"<html" in answer.data[:2000].lower() else "a body that is not an API fault"
        raise VendorProtocolError(f"ALSO answered {operation} with HTTP {status} and {kind}: "
                                  f"check that {self.shown_url} is the Marketplace URL")

    @staticmethod
    def _json(answer: Answer, operation: str) -> Any:
        if not answer.data.strip():
            return None
        try:
            return json.loads(answer.data)
        except ValueError as exc:
            raise VendorProtocolError(f"ALSO answered {operation} with malformed JSON ({exc})") from None
