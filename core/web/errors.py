"""The console's error pages (404, 405, 500) in its own layout, with a way back: never a bare
"Not Found" or a traceback. A logged-in person keeps the top bar; anyone else sees the plain layout."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.web.pages import console_of

log = logging.getLogger(__name__)

_TITLES = {404: "Page not found", 405: "Not allowed", 500: "Something went wrong"}


def _message(request: Request, status: int, detail: str | None) -> str:
    if status == 404:
        if detail and detail != "Not Found":
            return detail[:1].upper() + detail[1:] + "."
        return f"There is no page at {request.url.path}. Use the links above to find your way."
    if status == 405:
        return f"{request.url.path} cannot be opened this way ({request.method}). Use the page's buttons instead."
    if status >= 500:
        return ("The console could not show this page because of an internal error; it has been logged. "
                "Try again, or look at the integrator's log.")
    return detail or "The request could not be handled."


async def _render(request: Request, status: int, detail: str | None) -> Response:
    console = console_of(request)
    try:
        session = await console.session_of(request)
    except Exception:  # the database itself may be what failed
        session = None
    title = _TITLES.get(status, "Not possible")
    context: dict[str, Any] = {"title": title, "message": _message(request, status, detail)}
    if session is not None and session.authenticated:
        return console.render(request, session, "message.html", status_code=status, **context)
    context.update(request=request, csrf="", flashes=[], logged_in=False)
    return console.templates.TemplateResponse(request, "message.html", context, status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = await _render(request, exc.status_code, exc.detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("console error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return await _render(request, 500, None)


HANDLERS: dict[Any, Any] = {HTTPException: http_error, 500: server_error}
