"""Holding plugins to the hook contract: their hooks at load, and every value they return at the facade.

At load, a vendor plugin missing a required hook, or with a hook whose parameters are not the
spec's, is refused with a message naming the plugin, the hook and the expected signature. At
run time, every record a plugin returns is validated against the core's types (pydantic, strict):
a bad record becomes a ``RecordProblem`` naming it, never a crash in the planner.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

import pluggy
from pydantic import ConfigDict, SecretStr, TypeAdapter, ValidationError

from core import hookspecs
from core.errors import PluginError
from core.types import (
    Connection,
    Deactivation,
    DeactivationAction,
    Listing,
    RecordProblem,
    VendorAccount,
    VendorCustomer,
    VendorSubscription,
)

T = TypeVar("T")

#: A plugin implementing any of these is a vendor plugin.
VENDOR_HOOKS = ("integrator_settings_model", "integrator_connect", "integrator_list_customers",
                "integrator_list_subscriptions", "integrator_deactivate", "integrator_demo_sandbox",
                "integrator_list_charges", "integrator_sandbox_command", "integrator_display_name")
#: ...and must then implement these; the others are optional (the core has a default for each).
REQUIRED_HOOKS = ("integrator_connect", "integrator_list_customers", "integrator_list_subscriptions")

_STRICT = ConfigDict(strict=True, revalidate_instances="always", arbitrary_types_allowed=True)
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def spec_parameters(hook: str) -> list[str]:
    return list(inspect.signature(getattr(hookspecs, hook)).parameters)


def expected_signature(hook: str) -> str:
    return f"{hook}({', '.join(spec_parameters(hook))})"


def _implementations(pm: pluggy.PluginManager, plugin: Any) -> dict[str, Callable[..., Any]]:
    found = {}
    for attr in dir(plugin):
        if attr.startswith("integrator_") and pm.parse_hookimpl_opts(plugin, attr) is not None:
            found[attr] = getattr(plugin, attr)
    return found


def check_plugin(pm: pluggy.PluginManager, name: str, plugin: Any) -> None:
    """Refuse a plugin whose hooks do not fit the specs; run before ``pm.register``."""
    impls = _implementations(pm, plugin)
    for hook, function in impls.items():
        if not hasattr(hookspecs, hook):
            known = ", ".join(h for h in dir(hookspecs) if h.startswith("integrator_"))
            raise PluginError(f"plugin {name!r}: {hook} is not a hook of this integrator (the hooks: {known})")
        params = [p for p in inspect.signature(function).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        unknown = [p.name for p in params if p.name not in spec_parameters(hook)]
        if unknown:
            raise PluginError(f"plugin {name!r}: {hook} takes {', '.join(unknown)}, which the spec does not have; "
                              f"expected {expected_signature(hook)}")
    if not any(h in impls for h in VENDOR_HOOKS):
        return  # not a vendor: e.g. a plugin that only adds commands
    for hook in REQUIRED_HOOKS:
        if hook not in impls:
            hint = " (it is defined, but without @hookimpl)" if callable(getattr(plugin, hook, None)) else ""
            raise PluginError(f"plugin {name!r} is missing the required hook {expected_signature(hook)}{hint}")


# -- values returned ---------------------------------------------------------------------------

def _adapter(kind: type) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind | None, config=_STRICT)  # type: ignore[operator]
    return _ADAPTERS[kind]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def record_errors(record: Any, kind: type) -> list[str]:
    """What is wrong with one record returned as ``kind``; empty when it is a valid one."""
    if not isinstance(record, kind):
        return [f"is a {type(record).__name__}, not a {kind.__name__}"]
    try:
        _adapter(kind).validate_python(record)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in err['loc']) or 'record'} {err['msg'][0].lower()}{err['msg'][1:]} "
                f"(got {_shown(err.get('input'))})" for err in exc.errors()[:3]]
    errors = []
    for field in ("external_id", "name"):
        if not str(getattr(record, field, "x")).strip():
            errors.append(f"{field} is empty")
    for field in ("price", "cost"):
        value = getattr(record, field, None)
        if isinstance(value, Decimal) and not value.is_finite():
            errors.append(f"{field} is not a finite number (got {value})")
    quantity = getattr(record, "quantity", None)
    if isinstance(quantity, int) and not 0 <= quantity <= 2**31 - 1:
        errors.append(f"quantity is not a number of licences (got {_shown(quantity)})")
    return errors


def _label(record: Any) -> tuple[str | None, str | None]:
    rid, name = getattr(record, "external_id", None), getattr(record, "name", None)
    return (rid if isinstance(rid, str) and rid.strip() else None), (name if isinstance(name, str) else None)


def checked_listing(vendor: str, hook: str, result: Any, kind: type[T],
                    customer: VendorCustomer | None = None) -> Listing[T]:
    """The listing with every record valid as ``kind``; each invalid one moved to ``problems``."""
    if not isinstance(result, Listing):
        raise PluginError(f"plugin {vendor!r}: {hook} returned a {type(result).__name__}, not a Listing")
    if not isinstance(result.items, list) or not isinstance(result.problems, list):
        raise PluginError(f"plugin {vendor!r}: {hook} returned a Listing whose items or problems are not lists")
    good: list[T] = []
    problems = [p for p in result.problems if isinstance(p, RecordProblem)]
    if len(problems) != len(result.problems):
        raise PluginError(f"plugin {vendor!r}: {hook} returned problems that are not RecordProblems")
    for record in result.items:
        errors = record_errors(record, kind)
        if not errors and customer is not None and record.customer_external_id != customer.external_id:  # type: ignore[attr-defined]
            errors = [f"was returned for customer {customer.external_id} but names customer "
                      f"{record.customer_external_id}"]  # type: ignore[attr-defined]
        if errors:
            rid, name = _label(record)
            problems.append(RecordProblem(rid, name, f"plugin {vendor!r} returned an unusable record: "
                                                     + "; ".join(errors)))
        else:
            good.append(record)
    return Listing(items=good, problems=problems)


def checked_customers(vendor: str, result: Any) -> Listing[VendorCustomer]:
    return checked_listing(vendor, "integrator_list_customers", result, VendorCustomer)


def checked_subscriptions(vendor: str, result: Any, customer: VendorCustomer) -> Listing[VendorSubscription]:
    return checked_listing(vendor, "integrator_list_subscriptions", result, VendorSubscription, customer)


def checked_connection(vendor: str, result: Any) -> Connection:
    if not isinstance(result, Connection):
        raise PluginError(f"plugin {vendor!r}: integrator_connect returned a {type(result).__name__}, "
                          "not a Connection")
    if result.account is not None and (not isinstance(result.account, VendorAccount)
                                       or record_errors(result.account, VendorAccount)):
        raise PluginError(f"plugin {vendor!r}: integrator_connect returned a Connection whose account is not "
                          "a valid VendorAccount (external_id and name as strings) or None")
    return result


def checked_decisions(vendor: str, result: Any, wanted: list[str]) -> list[Deactivation]:
    hook = "integrator_deactivate"
    if not isinstance(result, list | tuple) or not all(
            isinstance(d, Deactivation) and isinstance(d.action, DeactivationAction) for d in result):
        raise PluginError(f"plugin {vendor!r}: {hook} must return a list of Deactivation")
    given = [d.external_id for d in result]
    missing = [w for w in wanted if w not in given]
    if missing:
        raise PluginError(f"plugin {vendor!r}: {hook} gave no decision for {', '.join(missing)}")
    twice = sorted({g for g in given if given.count(g) > 1})
    if twice:
        raise PluginError(f"plugin {vendor!r}: {hook} gave more than one decision for {', '.join(twice)}")
    return list(result)


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def secret_values(settings: Any) -> list[str]:
    """The values of a settings model's ``SecretStr`` fields (never to be shown)."""
    found = []
    for name in getattr(type(settings), "model_fields", {}):
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr) and value.get_secret_value():
            found.append(value.get_secret_value())
    return found


def unexpected(vendor: str, hook: str, exc: BaseException, secrets: Iterable[str] = ()) -> PluginError:
    """An exception a hook was not meant to raise, as a one-line error naming the plugin (secrets masked)."""
    text = " ".join(str(exc).split())
    text = _USERINFO.sub("***@", text)
    for secret in secrets:
        text = text.replace(secret, "***")
    if len(text) > 300:
        text = text[:297] + "..."
    return PluginError(f"plugin {vendor!r} failed in {hook}: {type(exc).__name__}" + (f": {text}" if text else ""))
