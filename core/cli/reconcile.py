"""``integrator billing reconcile``: the vendor's invoice for a month against the licences and our charges."""

from __future__ import annotations

import csv
import sys
from typing import TYPE_CHECKING

import click

from core.cli import logs

if TYPE_CHECKING:  # imported when the command runs: every other command starts without them
    from core.billing.matching import Reconciliation

USAGE_EXIT = 2


@click.command("reconcile")
@click.option("--period", required=True, metavar="YYYY-MM", help="The month, e.g. 2026-10.")
@click.option("--vendor", default=None, help="Only this vendor [default: every enabled integration].")
@click.option("--customer", default=None, help="Only this customer's lines.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the lines as CSV with a header row.")
@click.pass_context
def reconcile_cmd(ctx: click.Context, period: str, vendor: str | None, customer: str | None, as_json: bool,
                  as_csv: bool) -> None:
    """Compare the vendor's invoice with the licences and charges; exit 1 when it bills something we do not.

    Per subscription: matched, units_differ, leak (billed by the vendor, not charged to the customer),
    not_billed_by_vendor, negative_margin (our charge below the vendor's cost), or unmapped.
    """
    from core.billing.reconcile import reconcile_period
    from core.billing.report import parse_period
    from core.errors import UsageError

    app = ctx.obj.app
    try:
        if as_json and as_csv:
            raise UsageError("--json and --csv cannot be used together")
        month = parse_period(period)
        result = reconcile_period(app, month, vendor=vendor, customer=customer)
    except UsageError as exc:
        logs.echo(f"integrator: error: {exc}", "error")
        sys.exit(USAGE_EXIT)
    for name in result.no_invoice_data:
        logs.echo(f"{ctx.obj.display(name)}: no invoice data (its plugin does not implement integrator_list_charges)",
                  "warning")
    for warning in result.warnings:
        logs.echo(f"warning: {warning}", "warning")
    _print(result, as_json, as_csv)
    if result.has_leak:
        from core.billing.reconcile import alert_leaks

        alert_leaks(app, result)
        sys.exit(1)


def _print(result: Reconciliation, as_json: bool, as_csv: bool) -> None:
    from core.billing.matching import Status
    from core.billing.reconcile import CSV_FIELDS, csv_rows, report_json, units
    from core.cli.output import table
    from core.shapes import dump, money
    from core.text import counted

    if as_json:
        click.echo(dump(report_json(result)))
        return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\r\n")
        writer.writerow(CSV_FIELDS)
        writer.writerows(csv_rows(result))
        return
    click.echo(table(
        ["customer", "vendor", "id", "licence", "status", "vendor units", "psa qty", "vendor cost", "charge",
         "margin", "cur", "reason"],
        [[ln.customer, ln.vendor, ln.external_id, ln.licence, ln.status.value, units(ln.vendor_units),
          ln.psa_quantity, money(ln.vendor_cost), money(ln.charge), money(ln.margin), ln.currency, ln.reason]
         for ln in result.lines],
        optional=["vendor", "margin", "vendor cost"],
        whole=["id", "vendor units", "psa qty", "vendor cost", "charge", "margin"]))
    click.echo("")
    click.echo(table(["customer", "cur", "vendor cost", "charges", "margin", "leak"],
                     [[name or "(unmapped)", cur, money(t.vendor_cost), money(t.charges), money(t.margin),
                       money(t.leak)] for name, cur, t in result.totals_by_customer()]
                     + [["TOTAL", cur, money(t.vendor_cost), money(t.charges), money(t.margin), money(t.leak)]
                        for cur, t in result.totals_by_currency().items()]))
    leaks = [ln for ln in result.lines if ln.status is Status.LEAK]
    if leaks:
        logs.echo(f"{counted(len(leaks), 'leak')}: billed by the vendor and not charged to the customer", "error")

