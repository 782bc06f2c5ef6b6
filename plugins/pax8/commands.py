"""The Pax8 plugin's sandbox command: ``integrator sandbox pax8``."""

from __future__ import annotations

import math
import sys

import click

from core.errors import UsageError


def _finite(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number")
    return value


@click.command("pax8")
@click.option("--port", type=click.IntRange(0, 65535), default=8766, show_default=True,
              help="Loopback port (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option("--client-id", default=None, help="Client id it accepts [default: sandbox-client].")
@click.option("--client-secret", default=None, help="Client secret it accepts [default: sandbox-secret].")
@click.option("--latency-ms", type=click.FloatRange(0, 600_000), default=0.0, callback=_finite,
              help="Delay before every answer.")
@click.option("--companies", type=click.IntRange(1, 10_000_000), default=None,
              help="Serve a generated dataset of this many companies.")
@click.option("--subscriptions-per-company", type=click.IntRange(0, 10_000), default=10, show_default=True)
@click.option("--rate-limit-per-minute", type=click.IntRange(0, 10_000_000), default=1000, show_default=True,
              help="Requests a minute before it answers 429 (0: no limit).")
@click.option("--retry-after", type=click.IntRange(0, 3600), default=None,
              help="Send this Retry-After (seconds) with a 429 [default: none, as Pax8 documents].")
@click.option("--no-product-names", is_flag=True, help="Subscription lists omit productName (GET by id keeps it).")
@click.option("--json", "as_json", is_flag=True,
              help='When serving, print {"url", "client_id", "companies"} on stdout (with --port 0: the port).')
def sandbox_cmd(port: int, host: str, client_id: str | None, client_secret: str | None, latency_ms: float,
                companies: int | None, subscriptions_per_company: int, rate_limit_per_minute: int,
                retry_after: int | None, no_product_names: bool, as_json: bool) -> None:
    """Serve the built-in Pax8 sandbox (the partner API v1 on loopback, demo data) in the foreground."""
    from plugins.pax8 import sandbox
    from plugins.pax8.sandbox_data import demo_data, generated_data

    data = generated_data(companies, subscriptions_per_company) if companies else demo_data()
    client_id = client_id or sandbox.DEFAULT_CLIENT_ID
    state = sandbox.make_state(data, client_id, client_secret or sandbox.DEFAULT_CLIENT_SECRET)
    state.latency, state.rate_limit_per_minute = latency_ms / 1000, rate_limit_per_minute
    state.retry_after = None if retry_after is None else str(retry_after)
    state.list_product_names = not no_product_names
    try:
        server = sandbox.SandboxServer(state, host, port)
    except OSError as exc:
        raise UsageError(f"cannot serve the sandbox on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"cannot serve the sandbox on {host}:{port}: {exc}") from None
    click.echo(f"Pax8 sandbox serving {server.url} (client id {client_id}); Ctrl-C stops it", err=True)
    if as_json:
        import json

        click.echo(json.dumps({"url": server.url, "client_id": client_id, "companies": len(data.companies)}))
        sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
