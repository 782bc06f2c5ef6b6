"""The ALSO plugin's sandbox command: ``integrator sandbox also``."""

from __future__ import annotations

import sys

import click

from core import FiniteFloat, echo
from core.errors import UsageError


@click.command("sandbox")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Loopback port (0: any free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option("--username", default=None, help="Username it accepts [default: api-user@acme-msp.example].")
@click.option("--password", default=None, help="Password it accepts [default: sandbox-password].")
@click.option("--latency-ms", type=FiniteFloat(0, 600_000), default=0.0, help="Delay before every answer.")
@click.option("--companies", type=click.IntRange(1, 10_000_000), default=None,
              help="Serve a generated dataset of this many companies.")
@click.option("--subscriptions-per-company", type=click.IntRange(0, 10_000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True,
              help='When serving, print {"url", "username", "companies"} on stdout (with --port 0: the port).')
def sandbox_cmd(port: int, host: str, username: str | None, password: str | None, latency_ms: float,
                companies: int | None, subscriptions_per_company: int, as_json: bool) -> None:
    """Serve the built-in ALSO sandbox (the Simple API on loopback, demo data) in the foreground."""
    from plugins.also import sandbox

    data = sandbox.generated_data(companies, subscriptions_per_company) if companies else sandbox.demo_data()
    state = sandbox.make_state(data, username or sandbox.DEFAULT_USERNAME, password or sandbox.DEFAULT_PASSWORD)
    state.latency = latency_ms / 1000
    try:
        server = sandbox.SandboxServer(state, host, port)
    except OSError as exc:  # a taken port or an address this machine lacks: the option's value, as for `web`
        raise UsageError(f"cannot serve the sandbox on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError as exc:  # not loopback
        raise UsageError(f"cannot serve the sandbox on {host}:{port}: {exc}") from None
    echo(f"ALSO sandbox serving {server.url} (user {username or sandbox.DEFAULT_USERNAME}); Ctrl-C stops it",
              "info")
    if as_json:
        import json

        click.echo(json.dumps({"url": server.url, "username": username or sandbox.DEFAULT_USERNAME,
                               "companies": len(data.companies)}))
        sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
