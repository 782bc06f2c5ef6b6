"""The console's ASGI application: sessions, the login, and the routes of every page.

Pages are thin: they call the same core functions the CLI calls and render what those return.
Every page but the login needs a logged-in session; every POST needs the session's CSRF token.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from core.sync.app import App
from core.web import audit
from core.web.jobs import Jobs
from core.web.security import (
    COOKIE,
    IDLE_SECONDS,
    PASSWORD_HASH_ENV,
    ConsoleSession,
    LoginLimiter,
    SecurityHeaders,
    SessionSigner,
    check_hash,
    read_setting,
    session_key,
    verify_password,
)

HERE = Path(__file__).parent
_LOCAL_PATH = re.compile(r"/[A-Za-z0-9/_.~%+=&?-]*")
KEY_RECHECK_SECONDS = 5.0
Handler = Callable[..., Awaitable[Response]]


class Console:
    """What the pages share: the core App, templates, the session signer, the login limiter and imports."""

    def __init__(self, app: App, *, limiter: LoginLimiter | None = None, password_hash: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        env_hash = password_hash if password_hash is not None else os.environ.get(PASSWORD_HASH_ENV)
        self.env_hash = check_hash(env_hash, PASSWORD_HASH_ENV) if env_hash else None
        self._signer = SessionSigner(session_key(app.sessions), clock=clock)
        self._key_read = time.monotonic()
        self.limiter = limiter or LoginLimiter()
        self.jobs = Jobs(app)
        self.clock = clock
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["vendors"] = lambda: list(app.config.integrations)
        self.templates.env.filters["money"] = money
        self.flashes: dict[str, list[tuple[str, str]]] = {}

    def password_hash(self) -> str | None:
        return self.env_hash or read_setting(self.app.sessions, "password_hash")

    # -- sessions ---------------------------------------------------------------------------------

    @property
    def signer(self) -> SessionSigner:
        """The signer, with the key re-read now and then: 'set-password' in another process ends sessions here too."""
        if time.monotonic() - self._key_read >= KEY_RECHECK_SECONDS:
            self._signer.rekey(session_key(self.app.sessions))
            self._key_read = time.monotonic()
        return self._signer

    def session_of(self, request: Request) -> ConsoleSession | None:
        return self.signer.loads(request.cookies.get(COOKIE))

    def set_cookie(self, response: Response, request: Request, session: ConsoleSession) -> Response:
        response.set_cookie(COOKIE, self.signer.dumps(session), max_age=IDLE_SECONDS, path="/", httponly=True,
                            samesite="strict", secure=request.url.scheme == "https")
        return response

    def flash(self, session: ConsoleSession, kind: str, message: str) -> None:
        if len(self.flashes) > 1000:  # messages nobody came back to read
            self.flashes.clear()
        self.flashes.setdefault(session.sid, []).append((kind, message))

    async def record(self, request: Request, session: ConsoleSession | None, action: str, outcome: str,
                     detail: str | None = None) -> None:
        """Keep what was done (off the event loop: it writes to the database)."""
        label = session.label if session is not None else "-"
        await run_in_threadpool(audit.record, self.app.sessions, label, client_of(request), action, outcome, detail)

    def render(self, request: Request, session: ConsoleSession, template: str, status_code: int = 200,
               **context: Any) -> Response:
        context.update(request=request, csrf=session.csrf, flashes=self.flashes.pop(session.sid, []),
                       logged_in=session.authenticated)
        response = self.templates.TemplateResponse(request, template, context, status_code=status_code)
        return self.set_cookie(response, request, session)


def money(value: Any) -> str:
    """A price as people read it: at least two decimals ("3.10"), more only when there are more."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    cents = amount.quantize(Decimal("0.01"))
    return str(cents) if cents == amount else format(amount.normalize(), "f")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def page(handler: Handler) -> Handler:
    """A page a logged-in person reads (GET)."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        session = console_of(request).session_of(request)
        if session is None or not session.authenticated:
            return _to_login(request)
        response = await handler(request, session)
        return console_of(request).set_cookie(response, request, session)

    endpoint.needs_login = True  # type: ignore[attr-defined]
    return endpoint


def action(handler: Handler) -> Handler:
    """Something a logged-in person does (POST): refused without the session's CSRF token."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        session = console.session_of(request)
        if session is None or not session.authenticated:
            return _to_login(request)
        form = await request.form()
        if not session.csrf_ok(_token(request, form)):
            return await _refused(console, request, session)
        response = await handler(request, session, form)
        return console.set_cookie(response, request, session)

    endpoint.needs_csrf = True  # type: ignore[attr-defined]
    return endpoint


def _token(request: Request, form: FormData) -> str | None:
    value = form.get("csrf") or request.headers.get("x-csrf-token")
    return value if isinstance(value, str) else None


async def _refused(console: Console, request: Request, session: ConsoleSession) -> Response:
    await console.record(request, session, f"{request.method} {request.url.path}", "refused",
                         "missing or wrong CSRF token")
    return console.render(request, session, "message.html", status_code=403, title="Refused",
                          message="This form has expired or did not come from this console. "
                                  "Go back, reload the page and try again.")


def back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# -- login --------------------------------------------------------------------------------------

def _safe_next(target: str | None) -> str:
    """Where to go after the login: a path of this console only, never another site."""
    if not target or not _LOCAL_PATH.fullmatch(target) or target.startswith("//"):
        return "/integrations"
    return target


async def login_page(request: Request) -> Response:
    console = console_of(request)
    session = console.session_of(request)
    if session is not None and session.authenticated:
        return back("/integrations")
    session = session or ConsoleSession()
    return console.render(request, session, "login.html", next=_safe_next(request.query_params.get("next")),
                          configured=console.password_hash() is not None)


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    anonymous = console.session_of(request)
    if anonymous is None or not anonymous.csrf_ok(_token(request, form)):
        anonymous = anonymous or ConsoleSession()
        return console.render(request, anonymous, "login.html", status_code=403, next="/integrations",
                              configured=True, error="The login form expired: try again.")
    target = _safe_next(str(form.get("next") or ""))
    client = client_of(request)
    wait = console.limiter.attempt(client)
    if wait:
        await console.record(request, anonymous, "login", "refused", "too many failed logins")
        response = console.render(request, anonymous, "login.html", status_code=429, next=target, configured=True,
                                  error=f"Too many failed logins from this address: try again in "
                                        f"{max(1, round(wait / 60))} minute(s).")
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
    console.signer.revoke(anonymous)
    await console.record(request, session, "login", "ok")
    return console.set_cookie(back(target), request, session)


@action
async def logout(request: Request, session: ConsoleSession, form: FormData) -> Response:
    console = console_of(request)
    await console.record(request, session, "logout", "ok")
    console.signer.revoke(session)
    response = back("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@page
async def home(request: Request, session: ConsoleSession) -> Response:
    return back("/integrations")


# -- the application ----------------------------------------------------------------------------

def routes() -> list[BaseRoute]:
    from core.web import views_billing, views_runs, views_setup

    return [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *views_setup.ROUTES,
        *views_runs.ROUTES,
        *views_billing.ROUTES,
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

    starlette = Starlette(routes=table, lifespan=lifespan)
    starlette.state.console = console
    return SecurityHeaders(starlette, allowed_hosts)
