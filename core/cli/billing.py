"""``integrator billing ...``: charges for a month, as text, JSON or CSV."""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING, Any

import click

from core.cli import logs
from core.cli.output import table
from core.errors import UsageError

if TYPE_CHECKING:
    from core.billing.report import ChargeReport

USAGE_EXIT = 2
MODES = ("arrears", "advance")  # core.config.billing.MODES, without importing billing for every command


@click.group("billing")
def billing_group() -> None:
    """Charges computed from the licence history."""


@billing_group.command("charges")
@click.option("--period", required=True, metavar="YYYY-MM", help="The calendar month to charge.")
@click.option("--customer", default=None, help="Only this customer's charges.")
@click.option("--vendor", default=None, help="Only this vendor's licences (its plugin name).")
@click.option("--mode", type=click.Choice(MODES), default=None,
              help="arrears: the month as it happened; advance: the month at its first day's state plus "
                   "last month's correction [default: billing.mode, else arrears].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (money as decimal strings).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row, for an accounting import.")
@click.pass_obj
def charges_cmd(ctx: Any, period: str, customer: str | None, vendor: str | None, mode: str | None,
                as_json: bool, as_csv: bool) -> None:
    """The charges of one month, per customer, from the licences' history.

    A change counts from the day (in billing.timezone) of the sync that saw it. Usage lines come from the
    enabled vendors' invoices for the month: when one cannot be read, every other charge is still printed, a
    warning names the vendor, and the exit is 1 (the month's charges are incomplete)."""
    from core.billing.months import month_notes
    from core.billing.report import compute_charges, parse_period, write_csv
    from core.billing.usage import fetch_usage
    from core.host.plugins import vendor_names
    from core.shapes import dump

    try:
        if as_json and as_csv:
            raise UsageError("--json and --csv cannot be used together")
        month = parse_period(period)
        app = ctx.local_app
        if vendor in vendor_names(app.pm):
            ctx.vendor(vendor)  # installed but not configured: exit 2, as every command answers
        failed: list[str] = []
        usage = (fetch_usage(ctx, month, vendor, failed=failed) if vendor is None or vendor in app.config.integrations
                 else ([], []))
        with app.sessions() as session:
            report = compute_charges(session, month, app.config.billing, mode=mode, customer=customer,
                                     vendor=vendor, known_vendors=vendor_names(app.pm), usage=usage)
            notes = month_notes(session, month, app.config.billing, mode)  # running month, history start
    except UsageError as exc:
        logs.echo(f"integrator: error: {exc}", "error")
        sys.exit(USAGE_EXIT)
    for warning in report.warnings:
        logs.echo(f"integrator: warning: {warning}", "warning")
    if as_json:
        click.echo(dump([line.as_json() for line in report.lines]))
    elif as_csv:
        buffer = io.StringIO()
        write_csv(report.lines, buffer)
        click.echo(buffer.getvalue(), nl=False)
    else:
        head, _, rest = render_text(report, ctx.local_app.config.billing.timezone).partition("\n")
        click.echo("\n".join([head, *notes]) + (f"\n{rest}" if rest else ""))
    for problem in failed:  # after the charges, so it is the last thing a person reads
        logs.echo(f"integrator: error: {problem}", "error")
    if failed:
        sys.exit(1)


def render_text(report: ChargeReport, timezone: str) -> str:
    """Per customer its lines, total, cost and margin and the subtotal of each kind; then the totals."""
    from core.shapes import money

    out = [f"Charges for {report.period} ({report.mode}, days in {timezone})"]
    if not report.lines:
        out.append("No charges: no licence was active with a quantity in this month.")
    for customer, lines in report.by_customer().items():
        out += ["", customer, table(
            ["licence", "id", "kind", "from", "to", "days", "qty", "unit price", "amount", "unit cost", "cost",
             "cur"],
            [[ln.licence, ln.external_id, ln.kind, ln.start.isoformat(),
              ln.end.isoformat(), f"{ln.days}/{ln.period_days}", ln.quantity, money(ln.unit_price, unit=True),
              money(ln.amount), money(ln.unit_cost, unit=True), money(ln.cost), ln.currency]
             for ln in lines], indent=2, optional=["unit cost", "cost", "kind"],
            whole=["id", "from", "to", "days", "qty", "unit price", "amount", "unit cost", "cost"])]
        out += [f"  {line}" for line in _totals(report, customer)]
    if report.lines:
        out += ["", "All customers"] + [f"  {line}" for line in _totals(report, None)]
    return "\n".join(out)


def _totals(report: ChargeReport, customer: str | None) -> list[str]:
    from core.shapes import money
    from core.text import counted

    lines = []
    for currency, totals in report.totals(customer).items():
        unpriced = f" ({counted(totals.unpriced, 'line')} without a price)" if totals.unpriced else ""
        lines.append(f"total {money(totals.amount)} {currency or ''}".rstrip()
                     + f", cost {money(totals.cost)}, margin {money(totals.margin)}{unpriced}")
    kinds = report.by_kind(customer)
    if len(kinds) > 1:
        lines.append("by kind: " + ", ".join(f"{kind} {money(t.amount)} {cur or ''}".rstrip()
                                             for (kind, cur), t in kinds.items()))
    return lines
