"""The console's ASGI application: sessions, the login, and the routes of every page.

Pages are thin: they call the same core functions the CLI calls and render what those return.
Every page but the login needs a logged-in session; every POST needs the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from core.sync.app import App
from core.text import counted
from core.web.limits import BodyLimits
from core.web.pages import HERE, Console, action, back, client_of, console_of, form_token, page
from core.web.security import (
    COOKIE,
    ConsoleSession,
    LoginLimiter,
    SecurityHeaders,
    verify_password,
)

_LOCAL_PATH = re.compile(r"/[A-Za-z0-9/_.~%+=&?-]*")


# -- login --------------------------------------------------------------------------------------

def _safe_next(target: str | None) -> str:
    """Where to go after the login: a path of this console only, never another site."""
    if not target or not _LOCAL_PATH.fullmatch(target) or target.startswith("//"):
        return "/integrations"
    return target


async def login_page(request: Request) -> Response:
    console = console_of(request)
    session = await console.session_of(request)
    if session is not None and session.authenticated:
        return back("/integrations")
    session = session or ConsoleSession()
    return console.render(request, session, "login.html", next=_safe_next(request.query_params.get("next")),
                          configured=console.password_hash() is not None)


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    anonymous = await console.session_of(request)
    if anonymous is None or not anonymous.csrf_ok(form_token(request, form)):
        anonymous = anonymous or ConsoleSession()
        return console.render(request, anonymous, "login.html", status_code=403, next="/integrations",
                              configured=True, error="The login form expired: try again.")
    target = _safe_next(str(form.get("next") or ""))
    client = client_of(request)
    wait, delay = console.limiter.attempt(client)
    if delay:  # many failed logins overall: slow every attempt down, lock nobody out
        await asyncio.sleep(delay)
    if wait:
        await console.record(request, anonymous, "login", "refused", "too many failed logins")
        response = console.render(request, anonymous, "login.html", status_code=429, next=target, configured=True,
                                  error=f"Too many failed logins from this address: try again in "
                                        f"{counted(max(1, round(wait / 60)), 'minute')}.")
        response.headers["retry-after"] = str(wait)
        return response
    stored = await run_in_threadpool(console.password_hash)
    if stored is None:
        console.limiter.succeeded(client)  # not a guess: nothing to guess yet
        return console.render(request, anonymous, "login.html", status_code=503, next=target, configured=False)
    password = str(form.get("password") or "")
    if not await run_in_threadpool(verify_password, password, stored):
        await console.record(request, anonymous, "login", "refused", "wrong password")
        return console.render(request, anonymous, "login.html", status_code=401, next=target, configured=True,
                              error="Wrong password.")
    console.limiter.succeeded(client)
    session = ConsoleSession(authenticated=True, login_at=console.clock())  # a new id: no session fixation
    await run_in_threadpool(console.signer.revoke, anonymous)
    await console.record(request, session, "login", "ok")
    return console.set_cookie(back(target), request, session)


@action
async def logout(request: Request, session: ConsoleSession, form: FormData) -> Response:
    console = console_of(request)
    await console.record(request, session, "logout", "ok")
    await run_in_threadpool(console.signer.revoke, session)
    response = back("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@page
async def home(request: Request, session: ConsoleSession) -> Response:
    return back("/integrations")


# -- the application ----------------------------------------------------------------------------

def routes() -> list[BaseRoute]:
    from core.web import views_billing, views_reconcile, views_runs, views_setup

    return [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *views_setup.ROUTES,
        *views_runs.ROUTES,
        *views_billing.ROUTES,
        *views_reconcile.ROUTES,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]


PUBLIC = {"/login", "/static"}


def create_app(app: App, *, allowed_hosts: list[str] | None = None, limiter: LoginLimiter | None = None,
               password_hash: str | None = None, clock: Callable[[], float] = time.time) -> Any:
    """The console as an ASGI application. ``allowed_hosts``: the Host header values it answers
    (None: any); ``password_hash`` overrides $INTEGRATOR_WEB_PASSWORD_HASH (tests)."""
    console = Console(app, limiter=limiter, password_hash=password_hash, clock=clock)
    table = routes()
    for route in table:  # a page that forgot its guard is a bug found at start, not in production
        if isinstance(route, Route) and route.path not in PUBLIC:
            guarded = getattr(route.endpoint, "needs_csrf", False) or (
                getattr(route.endpoint, "needs_login", False) and route.methods <= {"GET", "HEAD"})
            if not guarded:
                raise AssertionError(f"console route {route.path} has neither @page nor @action")
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(console.jobs.stop)  # imports in flight stop at a safe point, recorded

    from core.web.errors import HANDLERS

    starlette = Starlette(routes=table, lifespan=lifespan, exception_handlers=HANDLERS)
    starlette.state.console = console
    outer = SecurityHeaders(BodyLimits(starlette), allowed_hosts)  # bodies capped before anything parses them
    outer.state = starlette.state
    return outer
