"""What every page of the console shares: the ``Console`` (templates, sessions, flashes, the audit
record), the ``page`` and ``action`` guards and the small helpers the views use. The views import
this module; ``core.web.app`` imports the views: no circle."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from core.host.plugins import display_name
from core.shapes import money
from core.sync.app import App
from core.text import counted, visible
from core.web import audit
from core.web.jobs import Jobs
from core.web.security import (
    COOKIE,
    IDLE_SECONDS,
    PASSWORD_HASH_ENV,
    ConsoleSession,
    LoginLimiter,
    SessionSigner,
    check_hash,
    read_setting,
)

HERE = Path(__file__).parent
Handler = Callable[..., Awaitable[Response]]


class Console:
    """What the pages share: the core App, templates, the session signer, the login limiter and imports."""

    def __init__(self, app: App, *, limiter: LoginLimiter | None = None, password_hash: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        env_hash = password_hash if password_hash is not None else os.environ.get(PASSWORD_HASH_ENV)
        self.env_hash = check_hash(env_hash, PASSWORD_HASH_ENV) if env_hash else None
        self.signer = SessionSigner(app.sessions, self.env_hash, clock=clock)
        self.limiter = limiter or LoginLimiter()
        self.jobs = Jobs(app)
        self.clock = clock
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["vendors"] = lambda: list(app.config.integrations)
        self.templates.env.globals["counted"] = counted
        self.templates.env.globals["display"] = lambda vendor: display_name(app.pm, vendor) if vendor else vendor
        self.templates.env.filters["money"] = price_text
        self.templates.env.finalize = shown  # every value, vendor text included: controls shown, not obeyed
        self.flashes: dict[str, list[tuple[str, str]]] = {}

    def password_hash(self) -> str | None:
        return self.env_hash or read_setting(self.app.sessions, "password_hash")

    # -- sessions ---------------------------------------------------------------------------------

    async def session_of(self, request: Request) -> ConsoleSession | None:
        """The request's session (read against the database, off the event loop: a logout or a new
        password in another process counts at once)."""
        return await run_in_threadpool(self.signer.loads, request.cookies.get(COOKIE))

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


def shown(value: Any) -> Any:
    """What a template prints: text with its bidi and control characters made visible (``<U+202E>``), so a
    vendor's name cannot reverse the console's own ids and quantities around it."""
    if isinstance(value, Markup):
        return Markup(visible(str(value), "&lt;U+{:04X}&gt;"))
    return visible(value) if isinstance(value, str) else value


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def page(handler: Handler) -> Handler:
    """A page a logged-in person reads (GET)."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        session = await console_of(request).session_of(request)
        if session is None or not session.authenticated:
            return to_login(request)
        response = await handler(request, session)
        return console_of(request).set_cookie(response, request, session)

    endpoint.needs_login = True  # type: ignore[attr-defined]
    return endpoint


def action(handler: Handler) -> Handler:
    """Something a logged-in person does (POST): refused without the session's CSRF token."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        session = await console.session_of(request)
        if session is None or not session.authenticated:
            return to_login(request)
        form = await request.form()
        if not session.csrf_ok(form_token(request, form)):
            return await _refused(console, request, session)
        response = await handler(request, session, form)
        return console.set_cookie(response, request, session)

    endpoint.needs_csrf = True  # type: ignore[attr-defined]
    return endpoint


def form_token(request: Request, form: FormData) -> str | None:
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


def vendor_of(request: Request, app: App) -> str:
    vendor = str(request.path_params.get("vendor") or request.query_params.get("vendor") or "")
    if not vendor and app.config.integrations:
        vendor = next(iter(app.config.integrations))
    if vendor not in app.config.integrations:
        configured = ", ".join(app.config.integrations) or "none"
        raise HTTPException(404, f"no integration named {vendor!r} is configured (configured: {configured})")
    return vendor


def price_text(value: Any) -> str:
    """A licence's price as people read it (``core.shapes.money``, a unit price); a dash when there is none."""
    return money(value, unit=True) or "—"
