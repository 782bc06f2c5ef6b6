"""A client of ALSO's Marketplace "Simple API": session, login, faults, retries.

Every operation is a POST with a JSON body to ``<url>/SimpleAPI/SimpleAPIService.svc/rest/<Op>``.
Errors come back as XML WCF faults. Retries with backoff live in one place: urllib3's ``Retry``
mounted on the session; re-login on an expired session lives in ``call``.
"""

from __future__ import annotations

import json
import logging
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from core.errors import (
    AuthenticationError,
    MfaNotSupportedError,
    PermissionDeniedError,
    SessionExpiredError,
    VendorFaultError,
    VendorProtocolError,
    VendorUnreachableError,
)
from core.vendor import mask_url

log = logging.getLogger(__name__)

API_PATH = "/SimpleAPI/SimpleAPIService.svc/rest/"
RETRY_STATUSES = (429, 502, 503, 504)
RIGHTS_HINT = (
    "the ALSO user needs read rights on customers and subscriptions and the 'Reseller Admin' capabilities role"
)


class _CappedRetry(Retry):
    """urllib3's Retry, but a Retry-After longer than ``max_retry_after`` seconds is cut short."""

    max_retry_after: float = 60.0

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.max_retry_after)


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
    ) -> None:
        self.url = url.rstrip("/")
        self.base = self.url + API_PATH
        self.host = urlsplit(self.url).hostname or self.url
        self.shown_url = mask_url(self.url)  # what messages show: never a password written in the URL
        self.tries = retries + 1
        self.username = username
        self._password = SecretStr(password)
        self.timeout = timeout
        self._token: SecretStr | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self.requests_made = 0
        retry = _CappedRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            allowed_methods=None,  # every Simple API call is a POST, and the ones we make only read
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff,
            backoff_jitter=backoff,
            backoff_max=30.0,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        retry.max_retry_after = max_retry_after
        self._session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=pool_size)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"AlsoClient(url={self.shown_url!r}, username={self.username!r})"

    # -- session -----------------------------------------------------------------------------

    def login(self) -> None:
        credentials = {"username": self.username, "password": self._password.get_secret_value()}
        response = self._post("GetSessionToken", credentials, None)
        if response.status_code in RETRY_STATUSES:  # throttled or down: not a wrong password
            raise VendorUnreachableError(
                f"ALSO kept answering GetSessionToken with HTTP {response.status_code} after {self.tries} tries "
                "(throttled or unavailable, not a wrong password); try again later"
            )
        if response.status_code != 200:
            fault = parse_fault(response.content)
            if fault is not None:
                raise self._login_error(fault)
            self._raise_for(response, "GetSessionToken")
        token = self._json(response, "GetSessionToken")
        if not isinstance(token, str) or not token:
            raise VendorProtocolError(f"ALSO GetSessionToken at {self.host} answered without a session token")
        with self._lock:
            self._token = SecretStr(token)
            self._generation += 1

    def _login_error(self, fault: Fault) -> Exception:
        text = fault.message.lower()
        if "mfa" in text or "multi-factor" in text or "2fa" in text:
            return MfaNotSupportedError(
                f"ALSO user {self.username} has MFA (2FA) enabled, which the Simple API cannot use: "
                f"ask ALSO support to disable 2FA for it, or use an API-only user ({RIGHTS_HINT})"
            )
        return AuthenticationError(
            f"ALSO refused the login of {self.username} at {self.host}: check username and password "
            f"(ALSO said: {fault.message})"
        )

    def _relogin(self, seen_generation: int) -> None:
        """Log in again unless another thread already did since ``seen_generation``."""
        with self._lock:
            if self._generation != seen_generation:
                return
        log.info("ALSO session expired; logging in again")
        self.login()

    def close(self) -> None:
        with self._lock:
            token, self._token = self._token, None
        if token is not None:
            try:
                self._post("TerminateSessionToken", {}, token)
            except Exception:  # logging out is a courtesy; a failure must not mask the real result
                log.debug("TerminateSessionToken failed", exc_info=False)
        self._session.close()

    # -- calls -------------------------------------------------------------------------------

    def call(self, operation: str, body: dict[str, Any] | None = None) -> Any:
        """Call ``operation``; an expired session is renewed once, transparently."""
        with self._lock:
            token, generation = self._token, self._generation
        if token is None:
            self.login()
            with self._lock:
                token, generation = self._token, self._generation
        response = self._post(operation, body or {}, token)
        if self._expired(response):
            self._relogin(generation)
            with self._lock:
                token = self._token
            response = self._post(operation, body or {}, token)
            if self._expired(response):
                raise SessionExpiredError(
                    f"ALSO {operation}: the session expired again right after logging in; try again later"
                )
        if response.status_code != 200:
            self._raise_for(response, operation)
        return self._json(response, operation)

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

    # -- transport ---------------------------------------------------------------------------

    def _post(self, operation: str, body: dict[str, Any], token: SecretStr | None) -> requests.Response:
        headers = {"Authenticate": f"CCPSessionId {token.get_secret_value()}"} if token else {}
        self.requests_made += 1
        try:
            return self._session.post(self.base + operation, json=body, headers=headers, timeout=self.timeout)
        except requests.exceptions.SSLError as exc:
            raise VendorUnreachableError(
                f"TLS verification of {self.host} failed ({_short(exc)}): check the Marketplace URL; "
                "verification is never turned off"
            ) from None
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            if isinstance(exc, requests.exceptions.Timeout) or "read timed out" in str(exc).lower():
                raise VendorUnreachableError(
                    f"ALSO at {self.host} did not answer {operation} within {self.timeout:g}s (after retries)"
                ) from None
            raise VendorUnreachableError(f"cannot reach ALSO at {self.shown_url}: {_short(exc)}") from None
        except requests.exceptions.RequestException as exc:
            raise VendorUnreachableError(f"ALSO {operation} at {self.host} failed: {_short(exc)}") from None

    @staticmethod
    def _expired(response: requests.Response) -> bool:
        if response.status_code == 401:
            return True
        if response.status_code == 200:
            return False
        fault = parse_fault(response.content)
        return fault is not None and fault.session_expired

    def _raise_for(self, response: requests.Response, operation: str) -> None:
        fault = parse_fault(response.content)
        if fault is not None:
            text = fault.message.lower()
            if response.status_code == 403 or any(
                w in text for w in ("permission", "not authorized", "unauthorized", "access denied", "rights")
            ):
                raise PermissionDeniedError(f"ALSO {operation} was refused: {fault.message} ({RIGHTS_HINT})")
            raise VendorFaultError(f"{operation} failed: {fault.message}")
        status = response.status_code
        if status in RETRY_STATUSES:
            raise VendorUnreachableError(
                f"ALSO kept answering {operation} with HTTP {status} after retries; try again later"
            )
        kind = "an HTML page" if b"<html" in response.content[:2000].lower() else "a body that is not an API fault"
        raise VendorProtocolError(
            f"ALSO answered {operation} with HTTP {status} and {kind}: "
            f"check that {self.shown_url} is the Marketplace URL"
        )

    @staticmethod
    def _json(response: requests.Response, operation: str) -> Any:
        if not response.content.strip():
            return None
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise VendorProtocolError(f"ALSO answered {operation} with malformed JSON ({exc})") from None


def _short(exc: Exception) -> str:
    """The innermost reason of a requests/urllib3 error, on one line."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No address associated",
                   "Connection reset", "Remote end closed", "certificate verify failed", "timed out"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.splitlines()[0][:200] if text else type(exc).__name__
