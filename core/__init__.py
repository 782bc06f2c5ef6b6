"""psa-integrator's host core. A plugin imports ``hookimpl``, the types and the few helpers it builds on
from here; with ``core.hookspecs``, ``core.types``, ``core.errors``, ``core.vendor``, ``core.redact``,
``core.testing`` and ``core.scaffold`` that is the whole SDK (tests/test_sdk_surface.py holds the
shipped plugins and the scaffold's template to it)."""

from __future__ import annotations

from typing import Any

import pluggy

from core.config.secrets import read_keyring, read_secret_file, resolve_password
from core.config.settings import VendorSettings, check_vendor_url
from core.host.lifecycle import default_deactivations
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
    "FiniteFloat",
    "LicenceGone",
    "Listing",
    "RecordProblem",
    "VendorAccount",
    "VendorCharge",
    "VendorCustomer",
    "VendorSettings",
    "VendorSubscription",
    "check_vendor_url",
    "default_deactivations",
    "echo",
    "hookimpl",
    "read_keyring",
    "read_secret_file",
    "resolve_password",
]


#: For a plugin's own commands (``integrator_register_commands``): imported on first use, so that only a
#: plugin that registers commands loads the command line. ``echo``: a line on stderr as the core writes them.
_FOR_COMMANDS = {"FiniteFloat": "core.cli.common", "echo": "core.cli.logs"}


def __getattr__(name: str) -> Any:
    if name in _FOR_COMMANDS:
        import importlib

        return getattr(importlib.import_module(_FOR_COMMANDS[name]), name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
