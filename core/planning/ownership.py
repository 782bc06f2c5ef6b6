"""Which company holds a licence after one run, whatever order and batches the listings came in.

A run lists its companies one by one and writes them in batches; these rules make the outcome depend
only on what the listings say, never on how they were batched:

- A licence held by company A and listed by company B moves to B only when A's listing in the same
  run does not hold it. While A has not been listed yet, the move waits for A's listing.
- Listed by two companies: the one that holds it (or, for a new licence, the first to list it) keeps it,
  and the run names both companies. When the holder gives it up (or is not in the run) and two others
  list it, the first of them takes it and the other is named.
- A's listing failed: the licence stays with A (nothing of a failed customer changes).
- A licence missing from its holder's listing is a deletion candidate; deletions are decided only once
  every listing of the run is in, because a later listing may hold it (a move).

Pure bookkeeping: no database, no HTTP. It keeps only licence ids that need a decision, so its memory
grows with the changes of a run, not with its size.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class Claim(enum.Enum):
    """What happens to a licence listed by a company other than the one holding it."""

    MOVE = "move"  # the holder does not list it (or is not part of this run): it follows the lister
    WAIT = "wait"  # the holder's listing is still to come: decided when it arrives
    HELD_BY_HOLDER = "held_by_holder"  # the holder lists it too: it stays there, both are reported
    HOLDER_FAILED = "holder_failed"  # the holder's listing failed: it stays there, reported
    TAKEN = "taken"  # an earlier listing of the run claimed it first: it goes (or waits to go) there, reported


@dataclass
class Waiting:
    licence_id: str
    holder: str
    lister: str
    payload: Any  # what the caller needs to apply the move later (the subscription and its target)


@dataclass
class Resolution:
    """What a holder's listing settled for the licences that waited on it."""

    moves: list[Waiting] = field(default_factory=list)  # the holder no longer lists them: they move
    kept: list[Waiting] = field(default_factory=list)  # the holder lists them too: they stay


@dataclass
class RunOwnership:
    """The run-wide state of the rules above. ``companies``: every company the run lists, in order."""

    companies: Iterable[str]
    _state: dict[str, bool] = field(default_factory=dict)  # company -> its listing succeeded
    _waiting: dict[str, Waiting] = field(default_factory=dict)  # licence id -> its waiting move
    _missing: dict[str, str] = field(default_factory=dict)  # licence id -> holder whose listing lacks it
    _claimed: dict[str, str] = field(default_factory=dict)  # licence id -> the lister it moves or waits to move to

    def __post_init__(self) -> None:
        self.companies = frozenset(self.companies)

    def claim(self, licence_id: str, holder: str, lister: str, payload: Any = None) -> Claim:
        """``lister`` lists a licence that ``holder`` holds."""
        first = self._claimed.get(licence_id)
        if first is not None and first != lister:
            return Claim.TAKEN
        if holder not in self.companies:
            self._claimed[licence_id] = lister
            return Claim.MOVE
        if holder not in self._state:
            self._waiting[licence_id] = Waiting(licence_id, holder, lister, payload)
            self._claimed[licence_id] = lister
            return Claim.WAIT
        if not self._state[holder]:
            return Claim.HOLDER_FAILED
        if self._missing.get(licence_id) == holder:
            del self._missing[licence_id]
            self._claimed[licence_id] = lister
            return Claim.MOVE
        return Claim.HELD_BY_HOLDER

    def claimant(self, licence_id: str) -> str | None:
        """The company that claimed ``licence_id`` first in this run (after a TAKEN claim)."""
        return self._claimed.get(licence_id)

    def listed(self, company: str, held: Iterable[str], listed: set[str]) -> Resolution:
        """``company``'s listing came in: ``held`` are the licence ids it holds, ``listed`` the ids its
        listing holds or could not read. Held licences it no longer lists become deletion candidates,
        unless another company listed them earlier in the run (then they move)."""
        self._state[company] = True
        resolution = Resolution()
        for licence_id in held:
            waiting = self._waiting.get(licence_id)
            if waiting is not None and waiting.holder == company:
                del self._waiting[licence_id]
                if licence_id in listed:
                    del self._claimed[licence_id]  # it stays with its holder
                    resolution.kept.append(waiting)
                else:
                    resolution.moves.append(waiting)
            elif licence_id not in listed:
                self._missing[licence_id] = company
        return resolution

    def failed(self, company: str) -> list[Waiting]:
        """``company``'s listing failed: the moves that waited on it are dropped, and returned."""
        self._state[company] = False
        dropped = [w for w in self._waiting.values() if w.holder == company]
        for waiting in dropped:
            del self._waiting[waiting.licence_id]
            del self._claimed[waiting.licence_id]
        return dropped

    def any_failed(self) -> bool:
        return not all(self._state.values())

    def deletion_candidates(self) -> dict[str, set[str]]:
        """Holder -> the licence ids its listing lacked and no other listing of the run claimed."""
        by_holder: dict[str, set[str]] = {}
        for licence_id, holder in self._missing.items():
            by_holder.setdefault(holder, set()).add(licence_id)
        return by_holder
