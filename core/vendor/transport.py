"""HTTP for the REST client on urllib3 directly: one connection pool per client, retries in one place.

``requests`` cost about a third of the sync's CPU per call (prepare_request, netrc and proxy
look-ups, adapters); a JSON call to one host needs none of it. What requests gave us is kept:
urllib3's ``Retry`` with backoff and Retry-After (capped), a connect and read timeout on every call,
TLS verification against certifi's bundle (or ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``), the
environment's proxy settings, and basic auth from a URL's userinfo.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.retry import Retry

from core.errors import VendorUnreachableError
from core.redact import mask_url, mask_urls_in, short_reason

log = logging.getLogger(__name__)
THROTTLE_STATUSES = (429, 503)
RETRY_STATUSES = (429, 502, 503, 504)
USER_AGENT = "psa-integrator"


class _CappedRetry(Retry):
    """urllib3's Retry, but a Retry-After longer than ``max_retry_after`` seconds is cut short, and
    every 429/503 it sees is reported (adaptive concurrency backs off on them)."""

    max_retry_after: float = 60.0
    on_throttle: Callable[[], None] | None = None

    def new(self, **kw: Any) -> _CappedRetry:
        retry = super().new(**kw)
        retry.max_retry_after, retry.on_throttle = self.max_retry_after, self.on_throttle
        return retry  # type: ignore[return-value]

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        if response is not None and response.status in THROTTLE_STATUSES and self.on_throttle is not None:
            self.on_throttle()
        return super().increment(method, url, response, error, _pool, _stacktrace)


class Response:
    """One answer: ``status`` (also ``status_code``), ``data`` (the body's bytes), ``headers``, and
    ``tries`` (how many times the request was sent: 1 + retries)."""

    __slots__ = ("data", "headers", "status", "tries")

    def __init__(self, status: int, data: bytes, tries: int = 1, headers: Mapping[str, str] | None = None) -> None:
        self.status, self.data, self.tries = status, data, tries
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    def __repr__(self) -> str:
        return f"Response(status={self.status}, {len(self.data)} bytes)"

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type") or "no content type"

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` when it is not)."""
        return json.loads(self.data)


_QUERY = re.compile(r"\?[^\s\"']*")


class _QuietRetries(logging.Filter):
    """urllib3 logs a raw 'Retrying (_CappedRetry(...))' warning per retry; shown only with -v. Every
    urllib3 line it lets through has the URLs' queries and passwords masked (an API key may be in one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Retrying") and not log.isEnabledFor(logging.INFO):
            return False
        text = record.getMessage()
        record.msg, record.args = mask_urls_in(_QUERY.sub("?***", text)), ()
        return True


_quiet_lock = threading.Lock()
_quiet_installed = False


def _quiet_urllib3_retries() -> None:
    global _quiet_installed
    with _quiet_lock:
        if not _quiet_installed:
            for name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager"):
                logging.getLogger(name).addFilter(_QuietRetries())
            _quiet_installed = True


def _ca_bundle() -> dict[str, str]:
    """Where requests would look for trusted CAs: its environment variables, else certifi's bundle."""
    path = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not path:
        import certifi

        path = certifi.where()
    return {"ca_cert_dir": path} if os.path.isdir(path) else {"ca_certs": path}


def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (HTTPS_PROXY, NO_PROXY...), as requests honours them."""
    from urllib.request import getproxies_environment, proxy_bypass_environment

    parts = urlsplit(url)
    proxies = getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxy


class Transport:
    """Calls to one base URL through one keep-alive connection pool, shared by every thread; an absolute
    URL (a token endpoint on another host) goes through the same pool manager."""

    def __init__(self, base: str, *, shown: str | None = None, vendor: str = "the vendor", url_hint: str = "the URL",
                 timeout: float, retries: int, backoff: float, max_retry_after: float, pool_size: int,
                 on_throttle: Callable[[], None] | None = None,
                 retry_methods: frozenset[str] | None = None) -> None:
        parts = urlsplit(base)
        netloc = parts.netloc.rpartition("@")[2]
        self.base_path = parts.path.rstrip("/")
        self.shown = mask_url(shown or base)  # the URL as messages name it
        self.host = parts.hostname or self.shown
        self.vendor, self.url_hint = vendor, url_hint
        self.timeout = timeout
        self.headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": USER_AGENT}
        if parts.username is not None:  # requests sent a URL's userinfo as basic auth; so do we
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        retry = _CappedRetry(
            total=retries,
            # A refused connection or an unknown host does not heal in seconds: one quick retry (a
            # blip), then say so, instead of minutes of backoff before the same answer.
            connect=min(retries, 1),
            read=retries,
            status=retries,
            other=0,
            allowed_methods=retry_methods,  # None: every method (for APIs whose POSTs only read)
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff,
            backoff_jitter=backoff,
            backoff_max=30.0,
            respect_retry_after_header=True,
            raise_on_status=False,
            redirect=False,
        )
        retry.max_retry_after, retry.on_throttle = max_retry_after, on_throttle
        self.retry = retry
        _quiet_urllib3_retries()
        options: dict[str, Any] = {"num_pools": 4, "maxsize": max(pool_size, 1), "block": False,
                                   "cert_reqs": "CERT_REQUIRED", **_ca_bundle()}
        proxy = _proxy_for(base)
        origin = f"{parts.scheme}://{netloc}"
        self._manager: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options))
        self._pool = self._manager.connection_from_url(origin)
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)

    def send(self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None,
             *, what: str | None = None, where: str | None = None) -> Response:
        """``method`` on ``base + path`` (or on ``path`` when it is an absolute URL), retried; any
        answer is returned, a transport fault raises :class:`VendorUnreachableError` naming ``what``."""
        try:
            if path.startswith(("http://", "https://")):
                response = self._manager.urlopen(method, path, body=body, headers=headers or self.headers,
                                                 retries=self.retry, redirect=False, timeout=self._timeout,
                                                 preload_content=True)
            else:
                response = self._pool.urlopen(method, self.base_path + path, body=body,
                                              headers=headers or self.headers, retries=self.retry, redirect=False,
                                              timeout=self._timeout, assert_same_host=False, preload_content=True)
        except MaxRetryError as exc:
            raise self._unreachable(what or f"{method} {path}", where, exc.reason or exc) from None
        except HTTPError as exc:
            raise self._unreachable(what or f"{method} {path}", where, exc) from None
        history = getattr(response.retries, "history", ()) or ()
        return Response(response.status, response.data, len(history) + 1, response.headers)

    def _unreachable(self, what: str, where: str | None, reason: Exception) -> VendorUnreachableError:
        vendor, shown = self.vendor, where or self.shown
        host = (urlsplit(where).hostname if where else None) or self.host
        if isinstance(reason, SSLError):
            return VendorUnreachableError(
                f"TLS verification of {host} failed ({short_reason(reason)}): check {self.url_hint}; "
                "verification is never turned off")
        if isinstance(reason, ReadTimeoutError):
            return VendorUnreachableError(
                f"{vendor} at {host} did not answer {what} within {self.timeout:g}s (after retries)")
        if isinstance(reason, NameResolutionError):
            return VendorUnreachableError(f"cannot reach {vendor} at {shown}: the name {host} does not resolve")
        if isinstance(reason, NewConnectionError | ConnectTimeoutError):
            return VendorUnreachableError(f"cannot reach {vendor} at {shown}: {short_reason(reason)}")
        if isinstance(reason, ProtocolError):  # the connection broke mid-call, again after the retries
            return VendorUnreachableError(f"cannot reach {vendor} at {shown}: {short_reason(reason)}")
        return VendorUnreachableError(f"{vendor} {what} at {host} failed: {short_reason(reason)}")

    def close(self) -> None:
        self._manager.clear()
