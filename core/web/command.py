"""``integrator web``: serve the console; ``integrator web set-password``: set its password."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import sys
from typing import Any, NoReturn

import click

from core.cli import logs
from core.config.settings import is_loopback_host
from core.errors import IntegratorError

LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"]


def _usage(message: str) -> NoReturn:
    logs.echo(f"integrator: error: {message}", "error")
    sys.exit(2)


@click.group("web", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8780, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--certfile", type=click.Path(dir_okay=False), help="TLS certificate (PEM) to serve HTTPS.")
@click.option("--keyfile", type=click.Path(dir_okay=False), help="TLS private key (PEM) for --certfile.")
@click.option("--behind-proxy", is_flag=True,
              help="A TLS-terminating reverse proxy is in front: trust its X-Forwarded-* headers.")
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True,
              help="With --behind-proxy: the proxy addresses whose forwarded headers are trusted.")
@click.option("--allowed-host", "allowed_hosts", multiple=True,
              help="A Host name the console answers to (repeatable) [default: loopback names on loopback].")
@click.pass_context
def web_group(ctx: click.Context, host: str, port: int, certfile: str | None, keyfile: str | None,
              behind_proxy: bool, forwarded_allow_ips: str, allowed_hosts: tuple[str, ...]) -> None:
    """The web console: Integrations, Mappings, imports, Licences, History and Billing in a browser.

    It listens on loopback unless told otherwise; another address needs TLS (--certfile and --keyfile)
    or --behind-proxy. Set its password first with 'integrator web set-password'."""
    if ctx.invoked_subcommand is not None:
        return
    if bool(certfile) != bool(keyfile):
        _usage("--certfile and --keyfile go together: give both to serve HTTPS")
    if not is_loopback_host(host) and not certfile and not behind_proxy:
        _usage(f"refusing to serve the console on {host} without TLS: give --certfile and --keyfile, "
               "or --behind-proxy when a TLS-terminating proxy is in front (loopback needs neither)")
    if certfile and keyfile:
        _check_tls(certfile, keyfile)
    hosts = list(allowed_hosts) or ([*LOOPBACK_NAMES, host] if is_loopback_host(host) else [])
    serve(ctx.obj.app, host, port, certfile=certfile, keyfile=keyfile,
          behind_proxy=behind_proxy, forwarded_allow_ips=forwarded_allow_ips, allowed_hosts=hosts or None)


def _check_tls(certfile: str, keyfile: str) -> None:
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        _usage(f"cannot use --certfile {certfile} with --keyfile {keyfile}: {exc.strerror or exc}")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        _usage(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.listen(128)
    return sock


def serve(app: Any, host: str, port: int, *, certfile: str | None, keyfile: str | None, behind_proxy: bool,
          forwarded_allow_ips: str, allowed_hosts: list[str] | None) -> None:
    import uvicorn

    from core.web.app import create_app

    asgi = create_app(app, allowed_hosts=allowed_hosts)
    if asgi.state.console.password_hash() is None:
        _usage("no console password is set: run 'integrator web set-password' first "
               "(or set INTEGRATOR_WEB_PASSWORD_HASH to a hash from 'integrator web set-password --print-hash')")
    sock = bind(host, port)
    config = uvicorn.Config(asgi, ssl_certfile=certfile, ssl_keyfile=keyfile, proxy_headers=behind_proxy,
                            forwarded_allow_ips=forwarded_allow_ips if behind_proxy else None, server_header=False,
                            date_header=False, access_log=False, log_config=None, log_level="warning")
    server = uvicorn.Server(config)
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if sock.family == socket.AF_INET6 else bound[0]
    logs.echo(f"integrator web: console at {'https' if certfile else 'http'}://{shown}:{bound[1]}/ "
              "(Ctrl-C stops it)", "info")
    # SIGINT and SIGTERM are a requested stop, as for the daemon: uvicorn finishes the requests in
    # flight, then raises the signal again, which ends here as exit 0.
    previous = signal.signal(signal.SIGTERM, _requested_stop)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    logs.echo("integrator web: stopped", "info")


def _requested_stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@web_group.command("set-password")
@click.option("--print-hash", is_flag=True,
              help="Print the hash (for $INTEGRATOR_WEB_PASSWORD_HASH) instead of storing it in the database.")
@click.pass_context
def set_password(ctx: click.Context, print_hash: bool) -> None:
    """Set the console's password (at least 12 characters): asked twice on a terminal, else one line
    of standard input. Storing a new one ends every open console session."""
    from core.web import audit
    from core.web.security import hash_password, store_password

    if sys.stdin.isatty():
        password = click.prompt("New console password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _usage("no password on standard input (one line is read)")
    try:
        hashed = hash_password(password)
    except IntegratorError as exc:
        _usage(str(exc))
    if print_hash:
        click.echo(hashed)
        return
    # Only the database is needed: a vendor's password variable may be unset here.
    app = getattr(ctx.obj, "local_app", None) or ctx.obj.app
    store_password(app.sessions, hashed)
    audit.record(app.sessions, "cli", None, "web set-password", "ok", f"by {_who()}")
    click.echo("Console password set; every open console session has ended.")


def _who() -> str:
    try:
        return os.getlogin()
    except OSError:
        return f"uid {os.getuid()}"


COMMANDS = [web_group]
