"""Usage (consumption such as Azure): the vendor's invoice lines without a unit count, passed through.

Each such line is charged in the month the vendor bills it, one line each, ``kind: "usage"``: amount =
the vendor's amount x (1 + ``billing.usage_markup_percent`` / 100), rounded half-up to cents; cost = the
vendor's amount. The pure part is ``usage_lines``; ``fetch_usage`` asks the vendors for their invoices.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from core.billing.charges import CENT, ChargeKind, ChargeLine
from core.config.billing import Period
from core.types import VendorCharge

if TYPE_CHECKING:
    from core.sync.app import App

HUNDRED = Decimal(100)


def marked_up(cost: Decimal, markup_percent: Decimal) -> Decimal:
    """cost x (1 + markup / 100), half-up to cents."""
    return (cost * (1 + markup_percent / HUNDRED)).quantize(CENT, rounding=ROUND_HALF_UP) + 0


def usage_lines(vendor: str, charges: Iterable[VendorCharge], customers: dict[str, str],
                markup_percent: Decimal) -> tuple[list[ChargeLine], list[str]]:
    """A usage line per invoice line without a unit count; ``customers``: vendor company id -> customer.

    A line of a company mapped to no customer cannot be charged: it is reported instead."""
    lines: list[ChargeLine] = []
    warnings: list[str] = []
    for charge in charges:
        if charge.units is not None:
            continue
        customer = customers.get(charge.customer_external_id)
        if customer is None:
            who = charge.customer_name or charge.customer_external_id
            warnings.append(f"{vendor} usage {charge.service_name} ({charge.subscription_external_id}) of "
                            f"{who} is not charged: that vendor company is mapped to no customer")
            continue
        amount = marked_up(charge.cost, markup_percent)
        days = (charge.end - charge.start).days + 1
        lines.append(ChargeLine(
            customer=customer, vendor=vendor, external_id=charge.subscription_external_id,
            licence=charge.service_name, kind=ChargeKind.USAGE, start=charge.start, end=charge.end, days=days,
            period_days=days, quantity=1, unit_price=amount, amount=amount, unit_cost=charge.cost,
            cost=charge.cost, currency=charge.currency))
    return lines, warnings


def fetch_usage(apps: Any, period: Period, vendor: str | None = None, today: date | None = None,
                failed: list[str] | None = None) -> tuple[list[ChargeLine], list[str]]:
    """The month's usage lines from every enabled integration's invoice (or one vendor's).

    A month that has not begun has no invoice; a vendor whose plugin has no invoice data gives none. An
    invoice that cannot be read raises the vendor's error, or, given ``failed``, adds one line naming the
    vendor and why to it and goes on with the other vendors (their usage and every licence's charges still
    count). ``apps``: an App, or the CLI's context, whose ``app`` (with the secrets) is opened only when some
    vendor has invoices."""
    from core.billing.invoices import HOOK, company_customers, fetch_charges
    from core.errors import IntegratorError
    from core.host.plugins import VendorFacade, display_name

    today = today or datetime.now(UTC).date()
    if period.first > today:
        return [], []
    local: App = getattr(apps, "local_app", apps)
    names = [vendor] if vendor else [n for n, s in local.config.integrations.items() if s.enabled]
    lines: list[ChargeLine] = []
    warnings: list[str] = []
    markup = local.config.billing.usage_markup_percent
    names = [n for n in names if (s := local.config.integrations.get(n)) is not None and s.enabled
             and VendorFacade(local.pm, n).implements(HOOK)]
    month = f"{period.year}-{period.month:02d}"
    if not names:
        return lines, warnings
    try:  # the configuration with its secrets: a missing one is no vendor's fault, so it is said as it is
        app: App = getattr(apps, "app", apps)
    except IntegratorError as exc:
        if failed is None:
            raise
        failed.append(f"the usage lines for {month} are missing: {exc}")
        return lines, warnings
    for name in names:
        try:
            listing = fetch_charges(app, name, period.year, period.month)
        except IntegratorError as exc:
            if failed is None:
                raise
            failed.append(f"the usage lines of {display_name(local.pm, name)} for {month} are missing: "
                          f"its invoice could not be read ({exc})")
            continue
        if listing is None:
            continue
        with app.sessions() as session:
            customers = company_customers(session, name)
        found, problems = usage_lines(name, listing.items, customers, markup)
        lines += found
        warnings += problems
    return lines, warnings
