"""The __TITLE__ API client. For now it answers from ``records.py``; each method shows the real call.

``core.vendor.RESTClient`` gives one keep-alive connection pool (shared safely by the threads that list
subscriptions), a timeout on every call, retries with backoff for 429/502/503/504 and connection faults
(Retry-After honoured, capped), AIMD pacing on 429/503, an auth hook (``BearerToken``, ``SessionLogin``,
``OAuth2ClientCredentials``), a paginator hook (``PageNumberPaginator``), and HTTP faults translated
into the core's typed errors with the URL masked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import AuthenticationError
from core.types import VendorAccount
from core.vendor import RESTClient

from . import records

if TYPE_CHECKING:
    from . import __CLASS__Settings


class __CLASS__Client(RESTClient):
    vendor = "__TITLE__"

    def __init__(self, settings: __CLASS__Settings) -> None:
        super().__init__(settings.url, timeout=settings.timeout_seconds, retries=settings.retries,
                         pool_size=max(settings.max_concurrency, 1) * 2)
        self._username = settings.username
        self._password = settings.password  # a SecretStr: read it only to send it

    def login(self) -> VendorAccount:
        # The real API, e.g.:
        #   token = self.post_json("auth/token", {"username": self._username,
        #                                         "password": self._password.get_secret_value()})["token"]
        #   self.headers["Authorization"] = f"Bearer {token}"   (or pass auth=SessionLogin(...) to __init__)
        #   me = self.get_json("me")
        if self._password.get_secret_value() != records.SAMPLE_PASSWORD:
            raise AuthenticationError(f"__TITLE__ refused the login of {self._username}: check username and password")
        me = records.ACCOUNT
        return VendorAccount(external_id=str(me["id"]), name=str(me["name"]))

    def customers(self) -> list[dict[str, Any]]:
        # The real API: return self.get_json("customers")  -- every page, or raise
        return [dict(record) for record in records.CUSTOMERS]

    def subscriptions(self, customer_id: str) -> list[dict[str, Any]]:
        # The real API: return self.get_json(f"customers/{customer_id}/subscriptions")  -- complete, or raise
        return [dict(record) for record in records.SUBSCRIPTIONS.get(customer_id, [])]
