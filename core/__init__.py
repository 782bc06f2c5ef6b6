"""psa-integrator's host core. Plugins import ``hookimpl`` and the types from here."""

from __future__ import annotations

import pluggy

from core.types import (
    Address,
    Connection,
    Deactivation,
    DeactivationAction,
    DemoSandbox,
    Disappearance,
    LicenceGone,
    Listing,
    RecordProblem,
    VendorAccount,
    VendorCharge,
    VendorCustomer,
    VendorSubscription,
)

hookimpl = pluggy.HookimplMarker("integrator")

__all__ = [
    "Address",
    "Connection",
    "Deactivation",
    "DeactivationAction",
    "DemoSandbox",
    "Disappearance",
    "LicenceGone",
    "Listing",
    "RecordProblem",
    "VendorAccount",
    "VendorCharge",
    "VendorCustomer",
    "VendorSubscription",
    "hookimpl",
]
