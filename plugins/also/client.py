"""A client of ALSO's Marketplace "Simple API": session, login, faults, re-login.

Every operation is a POST with a JSON body to ``<url>/SimpleAPI/SimpleAPIService.svc/rest/<Op>``.
Errors come back as XML WCF faults. It is a :class:`core.vendor.RESTClient`: retries with backoff,
the capped Retry-After, AIMD pacing and TLS live there; the session is a :class:`core.vendor.SessionLogin`
(one login per expiry however many calls are in flight, a refused login remembered and never tried
again, a session that dies right after each login renewed ``relogins`` more times with backoff).
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from core.errors import (
    AuthenticationError,
    MfaNotSupportedError,
    PermissionDeniedError,
    VendorFaultError,
    VendorProtocolError,
    VendorUnreachableError,
)
from core.redact import mask_url
from core.vendor.auth import SessionLogin
from core.vendor.rest import Response, RESTClient
from plugins.also.jsonstream import array_items, starts_array

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


@dataclass(frozen=True)
class SessionHandoff:
    """An already-logged-in session for a worker process (picklable; its repr shows no token)."""

    url: str
    username: str
    token: SecretStr
    settings: tuple[tuple[str, Any], ...]

    def __repr__(self) -> str:
        return f"SessionHandoff(url={mask_url(self.url)!r}, username={self.username!r})"


class AlsoClient(RESTClient):
    """One logged-in user of the Simple API. Thread-safe: concurrent calls share one session."""

    vendor = "ALSO"
    url_hint = "the Marketplace URL"

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
        self._settings = (("timeout", timeout), ("retries", retries), ("backoff", backoff),
                          ("max_retry_after", max_retry_after), ("pool_size", pool_size), ("relogins", relogins),
                          ("concurrency", concurrency))
        self.url = url.rstrip("/")
        self.host = urlsplit(self.url).hostname or mask_url(self.url)
        self.username = username
        self._password = SecretStr(password)
        self.relogins = relogins
        self.session_login = SessionLogin(self._get_token, header="Authenticate", scheme="CCPSessionId",
                                          logout=self._terminate, expired=self._expired, renewals=relogins + 1)
        super().__init__(self.url + API_PATH, auth=self.session_login, timeout=timeout, retries=retries,
                         backoff=backoff, max_retry_after=max_retry_after, pool_size=pool_size,
                         concurrency=concurrency, retry_methods=None,  # every Simple API call we make only reads
                         headers={"Content-Type": "application/json"},
                         shown_url=mask_url(self.url))  # never a password in the userinfo

    def __repr__(self) -> str:
        return f"AlsoClient(url={self.shown_url!r}, username={self.username!r})"

    def where(self, path: str) -> str:
        return self.shown_url  # messages name the Marketplace URL a person configured, not the API path

    def export_session(self) -> SessionHandoff:
        """This client's session, for :meth:`from_session` in a worker process (logs in first if needed)."""
        token = self._token
        if token is None:
            self.login()
            token = self._token
        assert token is not None
        return SessionHandoff(self.url, self.username, token, self._settings)

    @classmethod
    def from_session(cls, handoff: SessionHandoff) -> AlsoClient:
        """A client on the session of another process's client: it never logs in (an expired session fails
        the call) and never logs out (that would end the other's session)."""
        client = cls(handoff.url, handoff.username, "", **dict(handoff.settings))
        client.session_login = SessionLogin(client._no_login, header="Authenticate", scheme="CCPSessionId",
                                            expired=cls._expired, renewals=0)
        client.session_login.adopt(handoff.token)
        client.auth = client.session_login
        return client

    def _no_login(self, _client: RESTClient) -> str:
        raise VendorProtocolError("ALSO: a listing worker process has no login of its own")

    @property
    def logins(self) -> int:
        return self.session_login.logins

    @property
    def _token(self) -> SecretStr | None:
        return self.session_login.token

    # -- session -----------------------------------------------------------------------------

    def login(self) -> None:
        """Get a session token. A refusal (wrong password, MFA) is remembered: later logins of this
        client fail at once with the same message, so a run never locks the account out."""
        self.session_login.login(self)

    def _get_token(self, _client: RESTClient) -> str:
        credentials = {"username": self.username, "password": self._password.get_secret_value()}
        answer = self._post("GetSessionToken", credentials, paced=False)
        if answer.status != 200:
            if answer.status in self.retry_statuses:
                tries = f"after {answer.tries} tries" if answer.tries > 1 else "(not retried)"
                raise VendorUnreachableError(
                    f"ALSO answered {answer.status} at login {tries}; try again later")
            fault = parse_fault(answer.data)
            if fault is not None:
                raise self._login_error(fault)
            self.raise_for_status(answer, "GetSessionToken")
        token = self._json([answer.data], "GetSessionToken")
        if not isinstance(token, str) or not token:
            raise VendorProtocolError(f"ALSO GetSessionToken at {self.host} answered without a session token")
        return token

    def _terminate(self, _client: RESTClient, token: str) -> None:
        self._post("TerminateSessionToken", {}, headers={**self.headers, "Authenticate": f"CCPSessionId {token}"},
                   paced=False)

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

    # -- calls -------------------------------------------------------------------------------

    def call(self, operation: str, body: dict[str, Any] | None = None) -> Any:
        """Call ``operation``. An expired session is renewed (one login for all threads that saw it
        expire); if it keeps expiring right after a fresh login, up to ``relogins`` more times with backoff."""
        return self._json(self._answer(operation, body), operation)

    def _answer(self, operation: str, body: dict[str, Any] | None) -> list[bytes]:
        """The body of the successful answer to ``operation``, alone in a list (see :meth:`_json`)."""
        return [self.request("POST", operation, body=json.dumps(body or {}).encode(), what=operation).data]

    def get_company(self) -> dict[str, Any]:
        answer = self.call("GetCompany", {})
        # The spec says array, the live service sends one object: accept both.
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        if not isinstance(answer, dict):
            raise VendorProtocolError("ALSO GetCompany answered something that is not a company")
        return answer

    def iter_companies(self, parent_account_id: int) -> Iterator[Any]:
        """The reseller's companies, each parsed when it is taken (a large listing is never held as
        parsed objects all at once); malformed JSON raises when reached."""
        operation = "GetCompanies"
        text = self._text(self._answer(operation, {"parentAccountId": parent_account_id}), operation)
        if text is not None and starts_array(text):
            return self._items(text, operation)
        value = self._parse(text, operation)
        raise VendorProtocolError(f"ALSO {operation} answered {type(value).__name__}, not a list")

    @staticmethod
    def _items(text: str, operation: str) -> Iterator[Any]:
        try:
            yield from array_items(text)
        except ValueError as exc:
            raise VendorProtocolError(f"ALSO answered {operation} with malformed JSON ({exc})") from None

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

    def _post(self, operation: str, body: dict[str, Any], *, headers: dict[str, str] | None = None,
              paced: bool = True) -> Response:
        return self.send("POST", operation, body=json.dumps(body).encode(), headers=headers, what=operation,
                         paced=paced)

    @staticmethod
    def _expired(answer: Response) -> bool:
        if answer.status == 200:
            return False
        if answer.status == 401:
            return True
        fault = parse_fault(answer.data)
        return fault is not None and fault.session_expired

    def raise_for_status(self, answer: Response, operation: str) -> None:
        if answer.status == 200:
            return
        fault = parse_fault(answer.data)
        if fault is not None:
            text = fault.message.lower()
            if answer.status == 403 or any(
                w in text for w in ("permission", "not authorized", "unauthorized", "access denied", "rights")
            ):
                raise PermissionDeniedError(f"ALSO {operation} was refused: {fault.message} ({RIGHTS_HINT})")
            raise VendorFaultError(f"{operation} failed: {fault.message}")
        status = answer.status
        if status in self.retry_statuses:
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

    @classmethod
    def _json(cls, body: list[bytes], operation: str) -> Any:
        return cls._parse(cls._text(body, operation), operation)

    @staticmethod
    def _text(body: list[bytes], operation: str) -> str | None:
        """The one body in ``body`` as text, None when blank. It is taken out of the list first, so the
        bytes (18 MB for 50,000 companies) are freed once decoded, not kept beside the parsed objects."""
        data = body.pop()
        if not data or data.isspace():
            return None
        try:
            return data.decode(json.detect_encoding(data), "surrogatepass")  # as json.loads decodes bytes
        except ValueError as exc:
            raise VendorProtocolError(f"ALSO answered {operation} with malformed JSON ({exc})") from None

    @staticmethod
    def _parse(text: str | None, operation: str) -> Any:
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise VendorProtocolError(f"ALSO answered {operation} with malformed JSON ({exc})") from None
