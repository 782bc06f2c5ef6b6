"""Commands over the PSA's own records: ``customers``, ``mappings`` and ``licences``.

Only ``mappings generate``, ``mappings suggest`` and ``mappings add`` (its check) talk to a vendor
and read its secrets; the others work with the password variable unset.
"""

from __future__ import annotations

from typing import Any

import click

from core.cli import logs
from core.cli.common import Context, echo_json, json_option, pass_ctx, vendor_argument
from core.cli.output import table


@click.group("customers")
def customers_group() -> None:
    """Customers in the PSA database."""


@customers_group.command("add")
@click.argument("name")
@click.option("--top-level", default=None, help="The top level the customer belongs to.")
@json_option
@pass_ctx
def customers_add(ctx: Context, name: str, top_level: str | None, as_json: bool) -> None:
    """Create a customer."""
    from core import shapes
    from core.db import store

    with ctx.local_app.sessions.begin() as session:
        customer = store.add_customer(session, name, top_level)
        row = shapes.customer_json(customer)
    if as_json:
        echo_json(row)
    else:
        click.echo(f"Added customer {row['name']!r} (id {row['id']})")


@customers_group.command("list")
@json_option
@pass_ctx
def customers_list(ctx: Context, as_json: bool) -> None:
    """The customers."""
    from core import shapes
    from core.db import store

    with ctx.local_app.sessions() as session:
        rows = [shapes.customer_json(c) for c in store.list_customers(session)]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["id", "name", "top level", "active", "main site"], [
        [r["id"], r["name"], r["top_level"], r["active"],
         ", ".join(v for v in (r["main_site"] or {}).values() if v) or None] for r in rows],
        optional=["main site"], whole=["id"]))


# -- mappings ------------------------------------------------------------------------------------

@click.group("mappings")
def mappings_group() -> None:
    """Which vendor company is which customer."""


@mappings_group.command("generate")
@vendor_argument
@json_option
@pass_ctx
def mappings_generate(ctx: Context, vendor: str | None, as_json: bool) -> None:
    """Map every unmapped vendor company to the customer with exactly the same name."""
    from core.planning.customers import CustomerKind
    from core.sync.customers import generate_mappings

    vendor = ctx.vendor(vendor)
    plan, problems = generate_mappings(ctx.app, vendor)
    mapped = [a for a in plan.actions if a.kind == CustomerKind.MAP]
    skipped = [a for a in plan.actions if a.kind == CustomerKind.SKIP]
    if as_json:
        echo_json({"vendor": vendor,
                   "mapped": [{"external_id": a.company.external_id, "external_name": a.company.name,
                               "customer": a.customer_name} for a in mapped],
                   "unmapped": [{"external_id": a.company.external_id, "external_name": a.company.name,
                                 "reason": a.reason} for a in skipped],
                   "errors": problems})
    else:
        for action in mapped:
            click.echo(f"mapped    {action.label()} -> {action.customer_name!r}")
        for action in skipped:
            click.echo(f"unmapped  {action.label()}: {action.reason}")
        click.echo(f"{len(mapped)} mapped, {len(plan.actions) - len(mapped)} left unmapped")
    for problem in problems:
        logs.echo(f"error     {problem}", "warning")


@mappings_group.command("add")
@vendor_argument
@click.option("--external-id", required=True, help="The vendor's id of the company, as its listing gives it.")
@click.option("--customer", required=True, help="The customer's exact name.")
@click.option("--no-check", is_flag=True, help="Do not ask the vendor whether it has this company.")
@json_option
@pass_ctx
def mappings_add(ctx: Context, vendor: str | None, external_id: str, customer: str, no_check: bool,
                 as_json: bool) -> None:
    """Map a vendor company to a customer by hand (the vendor is asked first whether it has the company)."""
    from core.sync.mappings import add_manual_mapping

    vendor = ctx.vendor(vendor)
    added = add_manual_mapping(ctx.local_app, vendor, external_id, customer, check=not no_check,
                               vendor_app=lambda: ctx.app)
    if added.warning:
        logs.echo(f"integrator: warning: {added.warning}", "warning")
    if as_json:
        echo_json({**added.mapping, "checked": added.checked})
    else:
        click.echo(added.line())


@mappings_group.command("remove")
@vendor_argument
@click.option("--external-id", required=True)
@json_option
@pass_ctx
def mappings_remove(ctx: Context, vendor: str | None, external_id: str, as_json: bool) -> None:
    """Remove one mapping (the customer and its licences stay)."""
    from core import shapes
    from core.db import store

    vendor = ctx.vendor(vendor)
    with ctx.local_app.sessions.begin() as session:
        mapping = store.remove_mapping(session, vendor, external_id)
        row = shapes.mapping_json(mapping)
    if as_json:
        echo_json(row)
    else:
        click.echo(f"Removed the mapping of {ctx.display(vendor)} company {row['external_id']} to {row['customer']!r}")


@mappings_group.command("list")
@vendor_argument
@json_option
@pass_ctx
def mappings_list(ctx: Context, vendor: str | None, as_json: bool) -> None:
    """The mappings table."""
    from core import shapes
    from core.db import store

    vendor = ctx.vendor(vendor)
    with ctx.local_app.sessions() as session:
        rows = [shapes.mapping_json(m) for m in store.list_mappings(session, vendor)]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["external id", f"{ctx.display(vendor)} company", "customer", "source"],
                     [[r["external_id"], r["external_name"], r["customer"], r["source"]] for r in rows],
                     whole=["external id"]))


@mappings_group.command("suggest")
@vendor_argument
@json_option
@pass_ctx
def mappings_suggest(ctx: Context, vendor: str | None, as_json: bool) -> None:
    """Likely customers for unmapped companies, for a person to confirm with 'mappings add'."""
    import shlex

    from core.sync.suggest import suggest_mappings

    vendor = ctx.vendor(vendor)
    suggestions = suggest_mappings(ctx.app, vendor)
    if as_json:
        echo_json(suggestions)
        return
    if not suggestions:
        click.echo("No suggestions: every company is mapped or nothing resembles it.")
        return
    for s in suggestions:
        click.echo(f"{s['external_name']} ({s['external_id']}):")
        for c in s["candidates"]:
            click.echo(f"  {c['score']:>3}  {c['customer']!r}  ({c['why']})")
            click.echo(f"       integrator mappings add {vendor} --external-id {s['external_id']} "
                       f"--customer {shlex.quote(c['customer'])}")


# -- licences ------------------------------------------------------------------------------------

@click.group("licences")
def licences_group() -> None:
    """Licences (imported subscriptions)."""


def _customer_rows(ctx: Context, customer: str | None, query: Any, to_json: Any) -> list[dict[str, Any]]:
    """The rows of ``query(customer)`` as JSON; an unknown customer is a one-line usage error."""
    from core.db import store

    with ctx.local_app.sessions() as session:
        if customer is not None:
            customer = store.find_customer(session, customer).name
        return [to_json(row) for row in session.scalars(query(customer))]


@licences_group.command("list")
@click.option("--customer", default=None, help="Only this customer's licences.")
@json_option
@pass_ctx
def licences_list(ctx: Context, customer: str | None, as_json: bool) -> None:
    """The licences (--json: money as decimal strings)."""
    from core import shapes
    from core.db import store

    rows = _customer_rows(ctx, customer, store.licence_query, shapes.licence_json)
    if as_json:
        echo_json(rows)
        return
    click.echo(table(
        ["customer", "vendor", "id", "licence", "status", "active", "qty", "price", "cost", "cur", "end date",
         "cycle", "term", "sku", "tenant"],
        [[r["customer"], ctx.display(r["vendor"]), r["external_id"], r["name"], r["status"], r["active"], r["quantity"],
          r["price"], r["cost"], r["currency"], r["end_date"], r["billing_cycle"],
          f"{r['commitment_months']} mo" if r["commitment_months"] is not None else None, r["sku"],
          r["tenant_id"]] for r in rows],
        optional=["tenant", "sku", "term", "cycle", "cost", "active", "vendor", "status"],
        whole=["id", "qty", "price", "cost", "end date"]))


@licences_group.command("history")
@click.option("--customer", default=None, help="Only this customer's licences.")
@json_option
@pass_ctx
def licences_history(ctx: Context, customer: str | None, as_json: bool) -> None:
    """Every change made to a licence, newest first, with the sync run that made it."""
    from core import shapes
    from core.db import store

    rows = _customer_rows(ctx, customer, store.history_query, shapes.change_json)
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["when (UTC)", "run", "customer", "licence", "field", "old", "new"],
                     [[r["changed_at"][:19].replace("T", " "), r["sync_run"], r["customer"],
                       f"{r['licence']} ({r['external_id']})", r["field"], r["old"], r["new"]] for r in rows],
                     whole=["when (UTC)", "run"]))


COMMANDS = [customers_group, mappings_group, licences_group]
