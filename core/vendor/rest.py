"""The REST client every vendor plugin builds on (Singer's ``RESTStream`` and dlt's ``RESTClient`` are
the models): one keep-alive connection pool (urllib3), a timeout on every call, retries with backoff on
connection faults and 429/502/503/504 with the vendor's Retry-After honoured but capped, AIMD pacing of
the calls in flight on 429/503 (an optional requests-per-minute budget too), TLS always verified, an
auth hook (:mod:`core.vendor.auth`), a paginator hook (:mod:`core.vendor.paginate`), and every fault
raised as the core's typed errors with the URL masked:

- retriable (the run may try again later): :class:`~core.errors.VendorUnreachableError`;
- fatal until a person acts: :class:`~core.errors.AuthenticationError`,
  :class:`~core.errors.PermissionDeniedError`, :class:`~core.errors.VendorFaultError`,
  :class:`~core.errors.VendorProtocolError`, :class:`~core.errors.SessionExpiredError`.

Subclass it, set :attr:`RESTClient.vendor`, and write one method per API operation with
:meth:`RESTClient.get_json`, :meth:`RESTClient.post_json` or :meth:`RESTClient.get_all`. One client is
shared by the threads listing subscriptions.
"""

from __future__ import annotations

import json as jsonlib
import logging
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from core.errors import (
    AuthenticationError,
    PermissionDeniedError,
    SessionExpiredError,
    VendorFaultError,
    VendorProtocolError,
    VendorUnreachableError,
)
from core.vendor.auth import Auth
from core.vendor.pacing import Pacer, PaceReport, RateLimit
from core.vendor.paginate import NoPaging, Paginator
from core.vendor.transport import RETRY_STATUSES, THROTTLE_STATUSES, Response, Transport
from core.vendor.values import mask_url

__all__ = ["RESTClient", "Response"]

log = logging.getLogger(__name__)
MAX_PAGES = 100_000  # a paginator that never says "done" is a vendor fault, not an endless loop
_ERROR_KEYS = ("message", "error_description", "errorMessage", "detail", "title", "error")


class _Headers:
    """``client.session.headers``: what ``HttpClient`` subclasses wrote before the client was urllib3's."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


class RESTClient:
    """A vendor's HTTP API: see the module's description. ``path`` arguments are relative to ``base_url``
    (or absolute URLs, e.g. a token endpoint on another host)."""

    vendor = "the vendor"  #: the name every message uses
    url_hint = "the URL"  #: "check <url_hint>" in TLS and redirect messages
    retry_statuses: tuple[int, ...] = RETRY_STATUSES
    throttle_statuses: tuple[int, ...] = THROTTLE_STATUSES

    def __init__(self, base_url: str, *, auth: Auth | None = None, paginator: Paginator | None = None,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.5, max_retry_after: float = 60.0,
                 pool_size: int = 16, concurrency: int | None = None, requests_per_minute: float | None = None,
                 retry_methods: Iterable[str] | None = ("GET", "HEAD", "OPTIONS"),
                 headers: Mapping[str, str] | None = None, shown_url: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.shown_url = shown_url or mask_url(self.base_url)
        self.auth = auth or Auth()
        self.paginator = paginator or NoPaging()
        self.timeout, self.backoff = timeout, backoff
        self.requests_made = 0
        self.pacer = Pacer(concurrency or pool_size)
        self.rate = RateLimit(requests_per_minute) if requests_per_minute else None
        self._transport = Transport(
            self.base_url, shown=self.shown_url, vendor=self.vendor, url_hint=self.url_hint, timeout=timeout,
            retries=retries, backoff=backoff, max_retry_after=max_retry_after, pool_size=pool_size,
            on_throttle=self.pacer.throttle,
            retry_methods=None if retry_methods is None else frozenset(m.upper() for m in retry_methods))
        self.headers: dict[str, str] = {**self._transport.headers, **(headers or {})}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.shown_url!r})"

    @property
    def session(self) -> _Headers:
        """``client.session.headers[...] = ...`` sets a header on every call (kept from ``HttpClient``)."""
        return _Headers(self.headers)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def where(self, path: str) -> str:
        """``path``'s URL as messages show it: no userinfo, query or fragment."""
        return mask_url(self.url(path))

    # -- calls ---------------------------------------------------------------------------------

    def send(self, method: str, path: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None,
             what: str | None = None, paced: bool = True) -> Response:
        """One call as it is: retried on connection faults and the retry statuses, paced, any answer
        returned; no credentials unless ``headers`` carry them, no status check. A transport fault
        (refused, DNS, timeout, TLS) raises :class:`VendorUnreachableError`."""
        self.requests_made += 1
        target = path if path.startswith(("http://", "https://")) else "/" + path.lstrip("/")
        where = self.where(path)
        if not paced:
            return self._transport.send(method, target, body, headers or self.headers, what=what, where=where)
        if self.rate is not None:
            self.rate.take()
        ticket = self.pacer.acquire()
        answer = None
        try:
            answer = self._transport.send(method, target, body, headers or self.headers, what=what, where=where)
        finally:
            self.pacer.done(ticket, ok=answer is not None and answer.status not in self.throttle_statuses)
        return answer

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                body: bytes | None = None, headers: Mapping[str, str] | None = None,
                what: str | None = None) -> Response:
        """One call with the credentials; stale credentials are renewed (once, unless the auth says more;
        one renewal for every thread that saw them go stale) and the call repeated; then
        :meth:`raise_for_status`. ``what`` names the call in messages (default ``METHOD url``)."""
        if params:
            path = f"{path}{'&' if '?' in path else '?'}{urlencode(params, doseq=True)}"
        if json is not None:
            body = jsonlib.dumps(json).encode()
        call = {**self.headers, **headers} if headers else dict(self.headers)
        if body is not None and "Content-Type" not in call:
            call["Content-Type"] = "application/json"
        what = what or f"{method} {self.where(path)}"
        auth = self.auth
        generation = auth.apply(self, call)
        renewals = 0
        while True:
            response = self.send(method, path, body=body, headers=call, what=what)
            if not auth.renewals or not auth.expired(response):
                break
            if renewals >= auth.renewals:
                if renewals > 1 or response.status != 401:
                    raise SessionExpiredError(
                        f"{self.vendor} {what}: the session expired again right after logging in "
                        f"({renewals} times); try again later")
                break  # a 401 right after a renewal: the credentials are refused (raise_for_status says so)
            if renewals:
                time.sleep(min(30.0, self.backoff * 2 ** (renewals - 1)) + random.random() * self.backoff)
            renewals += 1
            auth.renew(self, generation)
            generation = auth.apply(self, call)
        self.raise_for_status(response, what)
        return response

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.parse(self.request("GET", path, params=params, **kwargs), f"GET {path}")

    def post_json(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.parse(self.request("POST", path, json=body if body is not None else {}, **kwargs),
                          f"POST {path}")

    def paginate(self, path: str, *, params: Mapping[str, Any] | None = None, paginator: Paginator | None = None,
                 method: str = "GET", json: Any = None) -> Iterator[list[Any]]:
        """Each page's items in turn, until the paginator says the listing is complete (or raise)."""
        pages = paginator or self.paginator
        query = pages.first(params or {})
        seen = 0
        for _ in range(MAX_PAGES):
            what = f"{method} {path}"
            data = self.parse(self.request(method, path, params=query, json=json), what)
            items = pages.items(data, f"{self.vendor} {what}")
            seen += len(items)
            yield items
            following = pages.next(data, query, items, seen)
            if following is None:
                return
            query = following
        raise VendorProtocolError(f"{self.vendor} {method} {path} kept giving pages past {MAX_PAGES}")

    def get_all(self, path: str, **kwargs: Any) -> list[Any]:
        """Every item of every page of a listing: complete, or an error is raised."""
        return [item for page in self.paginate(path, **kwargs) for item in page]

    # -- answers -------------------------------------------------------------------------------

    def parse(self, response: Response, what: str) -> Any:
        """The answer's JSON; an empty body is None; anything else raises :class:`VendorProtocolError`."""
        data = response.data
        if not data or data.isspace():
            return None
        try:
            return jsonlib.loads(data)
        except ValueError:
            raise VendorProtocolError(
                f"{self.vendor} answered {what} with something that is not JSON ({response.content_type})") from None

    def error_message(self, response: Response) -> str | None:
        """The vendor's own message in a fault's JSON body (``message``, ``error_description``, ``detail``,
        ``title``, ``error``, or the first of ``errors``); None when there is none. Override for another shape."""
        try:
            body = jsonlib.loads(response.data) if response.data else None
        except ValueError:
            return None
        if not isinstance(body, Mapping):
            return None
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            if isinstance(first, str) and first.strip():
                return first.strip()[:300]
            if isinstance(first, Mapping) and isinstance(first.get("message"), str):
                return first["message"].strip()[:300]
        for key in _ERROR_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:300]
        return None

    def raise_for_status(self, response: Response, what: str) -> None:
        """Translate an answer that is not a success into a typed error; override to read more of it."""
        status = response.status
        if status < 300:
            return
        said = self.error_message(response)
        said = f" ({self.vendor} said: {said})" if said else ""
        if status == 401:
            raise AuthenticationError(f"{self.vendor} refused the credentials ({what}: 401){said}: check them")
        if status == 403:
            raise PermissionDeniedError(
                f"{self.vendor} denied access ({what}: 403){said}: check the account's rights")
        if status in self.retry_statuses:
            raise VendorUnreachableError(
                f"{self.vendor} answered {status} to {what} after {response.tries} tries; try again later")
        if status < 400:
            where = f" to {mask_url(response.location)}" if response.location else ""
            raise VendorProtocolError(f"{self.vendor} answered {what} with a redirect (HTTP {status}){where}: "
                                      f"check {self.url_hint}")
        raise VendorFaultError(f"{self.vendor} answered {status} to {what}{said}")

    # -- the end -------------------------------------------------------------------------------

    def pace(self) -> PaceReport:
        """How fast this client went: requests, rate, throttled answers and the concurrency reached."""
        return self.pacer.report()

    def close(self) -> None:
        pace = self.pacer.report()
        if pace.calls:
            # Throttling is worth a person's attention (the vendor limits this account); the rate otherwise is not.
            log.log(logging.WARNING if pace.throttled else logging.INFO, "%s: %s", self.vendor, pace.describe())
        self.auth.close(self)
        self._transport.close()


HttpClient = RESTClient  # the name before the REST client (kept for plugins written against it)
