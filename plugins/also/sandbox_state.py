"""The ALSO sandbox's state: its users, the injected faults and what a running server counts and hands out."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from plugins.also.sandbox_data import SandboxData
from plugins.also.sandbox_invoices import InvoiceControls


@dataclass
class SandboxUser:
    password: str
    mfa: bool = False
    reseller_rights: bool = True


@dataclass
class FaultRule:
    """One injected misbehaviour. ``kind``: fault | html | text | malformed | reset | expire | empty | latency."""

    operation: str  # an operation name, or "*" for all
    kind: str = "fault"
    status: int = 500
    times: int = 1  # how many matching calls it affects; -1 = forever
    account_id: int | None = None  # only calls for this parentAccountId
    message: str = "Internal error"
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class SandboxState:
    data: SandboxData
    users: dict[str, SandboxUser]
    token_ttl: float = 3600.0
    latency: float = 0.0
    company_as_array: bool = False  # the spec's shape; the live service answers an object
    max_in_flight: int = 0  # > 0: calls beyond this many at once are answered 429 (a rate-limited account)
    in_flight: int = 0
    throttled: int = 0  # how many 429s max_in_flight caused
    faults: list[FaultRule] = field(default_factory=list)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # every token ever handed out (tests look for leaks)
    calls: Counter[str] = field(default_factory=Counter)
    invoice: InvoiceControls = field(default_factory=InvoiceControls)  # see sandbox_invoices
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, operation: str, account: int | None) -> FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.operation not in ("*", operation):
                    continue
                if rule.account_id is not None and rule.account_id != account:
                    continue
                if rule.times == 0:
                    continue
                if rule.times > 0:
                    rule.times -= 1
                return rule
        return None

    def company_ids(self) -> set[Any]:
        """The companies' AccountIds, indexed once per change of the list (tests append to it)."""
        key = (id(self.data.companies), len(self.data.companies))
        if getattr(self, "_index_key", None) != key:
            self._index = {c.get("AccountId") for c in self.data.companies}
            self._index_key = key
        return self._index

    def expire_all_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()
