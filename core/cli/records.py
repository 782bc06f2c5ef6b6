"""Commands over the PSA's own records: ``customers``, ``mappings`` and ``licences``."""

from __future__ import annotations

import click

from core import store
from core.cli.common import Context, echo_json, pass_ctx
from core.output import table
from core.plugins import VendorFacade
from core.sync import generate_mappings


@click.group("customers")
def customers_group() -> None:
    """Customers in the PSA database."""


@customers_group.command("add")
@click.argument("name")
@click.option("--top-level", default=None, help="The top level the customer belongs to.")
@pass_ctx
def customers_add(ctx: Context, name: str, top_level: str | None) -> None:
    """Create a customer."""
    with ctx.app.sessions.begin() as session:
        customer = store.add_customer(session, name, top_level)
        click.echo(f"Added customer {customer.name!r} (id {customer.id})")


@customers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def customers_list(ctx: Context, as_json: bool) -> None:
    """The customers."""
    with ctx.app.sessions() as session:
        rows = [store.customer_json(c) for c in store.list_customers(session)]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["id", "name", "top level", "active", "main site"], [
        [r["id"], r["name"], r["top_level"], r["active"],
         ", ".join(v for v in (r["main_site"] or {}).values() if v) or None] for r in rows]))

# -- mappings ------------------------------------------------------------------------------------

@click.group("mappings")
def mappings_group() -> None:
    """Which vendor company is which customer."""


@mappings_group.command("generate")
@click.argument("vendor")
@pass_ctx
def mappings_generate(ctx: Context, vendor: str) -> None:
    """Map every unmapped vendor company to the customer with exactly the same name."""
    plan, problems = generate_mappings(ctx.app, vendor)
    mapped = [a for a in plan.actions if a.kind == "map"]
    for action in mapped:
        click.echo(f"mapped    {action.label()} -> {action.customer_name!r}")
    for action in plan.actions:
        if action.kind == "skip":
            click.echo(f"unmapped  {action.label()}: {action.reason}")
    for problem in problems:
        click.echo(f"error     {problem}", err=True)
    click.echo(f"{len(mapped)} mapped, {len(plan.actions) - len(mapped)} left unmapped")


@mappings_group.command("add")
@click.argument("vendor")
@click.option("--external-id", required=True, help="The vendor's id of the company (for ALSO its AccountId).")
@click.option("--customer", required=True, help="The customer's exact name.")
@pass_ctx
def mappings_add(ctx: Context, vendor: str, external_id: str, customer: str) -> None:
    """Map a vendor company to a customer by hand."""
    VendorFacade(ctx.pm, vendor)
    with ctx.app.sessions.begin() as session:
        mapping = store.add_mapping(session, vendor, external_id, customer)
        click.echo(f"Mapped {vendor} company {mapping.external_id} to {mapping.customer.name!r}")


@mappings_group.command("remove")
@click.argument("vendor")
@click.option("--external-id", required=True)
@pass_ctx
def mappings_remove(ctx: Context, vendor: str, external_id: str) -> None:
    """Remove one mapping (the customer and its licences stay)."""
    with ctx.app.sessions.begin() as session:
        mapping = store.remove_mapping(session, vendor, external_id)
        click.echo(f"Removed the mapping of {vendor} company {mapping.external_id} to {mapping.customer.name!r}")


@mappings_group.command("list")
@click.argument("vendor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def mappings_list(ctx: Context, vendor: str, as_json: bool) -> None:
    """The mappings table."""
    with ctx.app.sessions() as session:
        rows = [store.mapping_json(m) for m in store.list_mappings(session, vendor)]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["external id", "vendor company", "customer", "source"],
                     [[r["external_id"], r["external_name"], r["customer"], r["source"]] for r in rows]))


@mappings_group.command("suggest")
@click.argument("vendor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def mappings_suggest(ctx: Context, vendor: str, as_json: bool) -> None:
    """Likely customers for unmapped companies, for a person to confirm with 'mappings add'."""
    from core.suggest import suggest_mappings

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
                       f"--customer {_quote(c['customer'])}")


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


@click.group("licences")
def licences_group() -> None:
    """Licences (imported subscriptions)."""


@licences_group.command("list")
@click.option("--customer", default=None, help="Only this customer's licences.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def licences_list(ctx: Context, customer: str | None, as_json: bool) -> None:
    """The licences."""
    with ctx.app.sessions() as session:
        if customer is not None:
            store.find_customer(session, customer)
        rows = [store.licence_json(lic) for lic in session.scalars(store.licence_query(customer))]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(
        ["customer", "vendor", "id", "licence", "status", "active", "qty", "price", "cost", "cur", "end date"],
        [[r["customer"], r["vendor"], r["external_id"], r["name"], r["status"], r["active"], r["quantity"],
          r["price"], r["cost"], r["currency"], r["end_date"]] for r in rows]))


@licences_group.command("history")
@click.option("--customer", default=None, help="Only this customer's licences.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def licences_history(ctx: Context, customer: str | None, as_json: bool) -> None:
    """Every change made to a licence, newest first."""
    with ctx.app.sessions() as session:
        if customer is not None:
            store.find_customer(session, customer)
        rows = [store.change_json(c) for c in session.scalars(store.history_query(customer))]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["when (UTC)", "customer", "licence", "field", "old", "new"],
                     [[r["changed_at"][:19], r["customer"], f"{r['licence']} ({r['external_id']})", r["field"],
                       r["old"], r["new"]] for r in rows]))


COMMANDS = [customers_group, mappings_group, licences_group]
