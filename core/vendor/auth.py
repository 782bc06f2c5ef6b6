"""How a :class:`~core.vendor.rest.RESTClient` authenticates: the auth hook.

An :class:`Auth` puts its credentials on each request (:meth:`Auth.apply`), says whether an answer
means they went stale (:meth:`Auth.expired`, by default a 401) and renews them (:meth:`Auth.renew`).
The client renews at most :attr:`Auth.renewals` times per call (once, unless an auth says more);
however many threads saw the same stale token, one renewal serves them all. A refused login
(:class:`~core.errors.AuthenticationError`) is remembered and raised again at once: a run never
locks an account out by retrying a wrong password.

- :class:`TokenAuth` / :class:`BearerToken`: a fixed API key or token in a header;
- :class:`SessionLogin`: a login call that gives a session token (``login(client) -> token``);
- :class:`OAuth2ClientCredentials`: the client-credentials grant, the token cached until shortly
  before it expires.

Secrets are kept as ``SecretStr``: no ``repr`` shows them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from core.errors import AuthenticationError, VendorProtocolError, VendorUnreachableError

if TYPE_CHECKING:
    from core.vendor.rest import RESTClient
    from core.vendor.transport import Response

log = logging.getLogger(__name__)


class Auth:
    """No credentials (the base of every auth hook)."""

    renewals = 0  # how many renewals one call may make when its answer says the credentials went stale

    def apply(self, client: RESTClient, headers: dict[str, str]) -> int:
        """Put the credentials in ``headers``; return the generation of what was put (for :meth:`renew`)."""
        return 0

    def expired(self, response: Response) -> bool:
        """Does this answer mean the credentials went stale (and a renewal may help)?"""
        return response.status == 401

    def renew(self, client: RESTClient, generation: int) -> None:
        """The credentials of ``generation`` went stale: get new ones unless another thread already did."""

    def close(self, client: RESTClient) -> None:
        """The client is closing (log out, when the API has a way to)."""


class TokenAuth(Auth):
    """A fixed token or API key sent in ``header`` as ``"<scheme> <token>"`` (just the token without a scheme)."""

    def __init__(self, token: str | SecretStr, *, header: str = "Authorization", scheme: str | None = "Bearer") -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self.header, self.scheme = header, scheme

    def __repr__(self) -> str:
        return f"{type(self).__name__}(header={self.header!r})"

    def apply(self, client: RESTClient, headers: dict[str, str]) -> int:
        token = self._token.get_secret_value()
        headers[self.header] = f"{self.scheme} {token}" if self.scheme else token
        return 0


class BearerToken(TokenAuth):
    """``Authorization: Bearer <token>``."""

    def __init__(self, token: str | SecretStr) -> None:
        super().__init__(token)


class _Renewing(Auth):
    """A token got by a call, shared by every thread, renewed once per staleness for all of them."""

    renewals = 1

    def __init__(self, *, header: str, scheme: str | None) -> None:
        self.header, self.scheme = header, scheme
        self._token: SecretStr | None = None
        self._valid_until = float("inf")  # monotonic time after which the token is renewed before use
        self._generation = 0  # +1 per token got; a thread renews only if the generation it used is current
        self._lock = threading.Lock()  # guards token, expiry and generation
        self._login_lock = threading.Lock()  # one login at a time; the others wait and take its token
        self._refused: AuthenticationError | None = None
        self.logins = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(header={self.header!r}, logins={self.logins})"

    def fetch(self, client: RESTClient) -> tuple[str, float | None]:
        """Get a new token: ``(token, seconds it lives or None)``. Raise AuthenticationError on a refusal."""
        raise NotImplementedError

    @property
    def token(self) -> SecretStr | None:
        with self._lock:
            return self._token

    def login(self, client: RESTClient) -> None:
        """Get a token now (whether or not one is held)."""
        with self._login_lock:
            self._login(client)

    def _login(self, client: RESTClient) -> None:
        if self._refused is not None:
            raise self._refused
        try:
            token, lifetime = self.fetch(client)
        except AuthenticationError as exc:
            self._refused = exc
            raise
        finally:
            self.logins += 1
        if not isinstance(token, str) or not token:
            raise VendorProtocolError(f"{client.vendor} answered the login without a token")
        with self._lock:
            self._token = SecretStr(token)
            self._valid_until = time.monotonic() + lifetime if lifetime is not None else float("inf")
            self._generation += 1

    def adopt(self, token: str | SecretStr) -> None:
        """Use a token got elsewhere (by the parent of a worker process) without logging in."""
        with self._lock:
            self._token = token if isinstance(token, SecretStr) else SecretStr(token)
            self._generation += 1

    def apply(self, client: RESTClient, headers: dict[str, str]) -> int:
        with self._lock:
            token, generation, valid_until = self._token, self._generation, self._valid_until
        if token is None or time.monotonic() >= valid_until:
            self.renew(client, generation)
            with self._lock:
                token, generation = self._token, self._generation
        assert token is not None
        value = token.get_secret_value()
        headers[self.header] = f"{self.scheme} {value}" if self.scheme else value
        return generation

    def renew(self, client: RESTClient, generation: int) -> None:
        with self._login_lock:
            with self._lock:
                current = self._generation
            if current == generation:
                if generation:
                    log.info("%s: the token went stale; getting a new one", client.vendor)
                self._login(client)

    def forget(self) -> SecretStr | None:
        """Drop the token held (returned, e.g. to log it out)."""
        with self._lock:
            token, self._token = self._token, None
            return token


class SessionLogin(_Renewing):
    """A login call gives a session token: ``login(client) -> token`` (use ``client.send`` for it, which
    carries no credentials); the token goes in ``header`` as ``"<scheme> <token>"``. ``expired(response)``
    says when the session died (default: a 401); ``renewals`` how often one call may log in again (default
    once); ``logout(client, token)`` ends the session when the client closes."""

    def __init__(self, login: Callable[[RESTClient], str], *, header: str = "Authorization",
                 scheme: str | None = "Bearer", logout: Callable[[RESTClient, str], Any] | None = None,
                 expired: Callable[[Response], bool] | None = None, renewals: int = 1) -> None:
        super().__init__(header=header, scheme=scheme)
        self._call, self._logout, self._expired = login, logout, expired
        self.renewals = renewals

    def fetch(self, client: RESTClient) -> tuple[str, float | None]:
        return self._call(client), None

    def expired(self, response: Response) -> bool:
        return self._expired(response) if self._expired is not None else response.status == 401

    def close(self, client: RESTClient) -> None:
        token = self.forget()
        if token is not None and self._logout is not None:
            try:
                self._logout(client, token.get_secret_value())
            except Exception:  # logging out is a courtesy; a failure must not mask the real result
                log.debug("%s: logging out failed", client.vendor, exc_info=False)


class OAuth2ClientCredentials(_Renewing):
    """OAuth 2.0 client credentials: POST ``token_url`` with ``client_id``, ``client_secret``,
    ``grant_type=client_credentials`` (and ``audience``/``scope`` when given) as JSON, or as a form with
    ``form=True``; the ``access_token`` is sent as a bearer token, kept until ``leeway`` seconds before its
    ``expires_in``, and renewed exactly once when a call is answered 401."""

    def __init__(self, token_url: str, client_id: str, client_secret: str | SecretStr, *,
                 audience: str | None = None, scope: str | None = None, form: bool = False,
                 leeway: float = 60.0) -> None:
        super().__init__(header="Authorization", scheme="Bearer")
        self.token_url, self.client_id = token_url, client_id
        self._secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        self.audience, self.scope, self.form, self.leeway = audience, scope, form, leeway

    def fetch(self, client: RESTClient) -> tuple[str, float | None]:
        import json
        from urllib.parse import urlencode

        fields = {"grant_type": "client_credentials", "client_id": self.client_id,
                  "client_secret": self._secret.get_secret_value()}
        if self.audience:
            fields["audience"] = self.audience
        if self.scope:
            fields["scope"] = self.scope
        if self.form:
            body, kind = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        else:
            body, kind = json.dumps(fields).encode(), "application/json"
        headers = {**client.headers, "Content-Type": kind}
        headers.pop("Authorization", None)
        response = client.send("POST", self.token_url, body=body, headers=headers, what="the token request",
                               paced=False)
        said = client.error_message(response)
        said = f" ({client.vendor} said: {said})" if said else ""
        if response.status in (400, 401, 403):
            raise AuthenticationError(
                f"{client.vendor} refused the client credentials of {self.client_id} "
                f"(token request: {response.status}){said}: check client_id and client_secret")
        if response.status >= 300:
            if response.status in client.retry_statuses:
                raise VendorUnreachableError(
                    f"{client.vendor} answered {response.status} to the token request after {response.tries} "
                    "tries; try again later")
            raise VendorProtocolError(f"{client.vendor} answered {response.status} to the token request{said}")
        try:
            answer = response.json()
            token, lifetime = answer["access_token"], answer.get("expires_in")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise VendorProtocolError(f"{client.vendor} answered the token request without an access_token") \
                from None
        seconds = None
        if isinstance(lifetime, int | float | str) and str(lifetime).replace(".", "", 1).isdigit():
            seconds = max(0.0, float(lifetime) - self.leeway)
        return token, seconds
