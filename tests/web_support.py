"""Helpers shared by the console's HTTP and browser tests."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import Any

from core.config.file import load_config
from core.db import open_database
from core.host.plugins import get_plugin_manager
from core.sync.app import App

CONSOLE_PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def make_app(config: Path) -> App:
    pm = get_plugin_manager()
    loaded = load_config(config, pm)
    return App(config=loaded, pm=pm, sessions=open_database(loaded.database_url))


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def flashes(page: str) -> list[str]:
    found = re.findall(r'class="flash [a-z]+"[^>]*>(.*?)</div>', page, re.S)
    return [html.unescape(re.sub(r"\s+", " ", m).strip()) for m in found]


def log_in(client: Any, password: str = CONSOLE_PASSWORD) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "password": password, "next": "/integrations"},
                       follow_redirects=False)


def wait_for_job(client: Any, location: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the import's status, as the page's script does, until it has finished."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"{location}/status").json()
        if not status["running"]:
            return status  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"the import at {location} did not finish"
        time.sleep(0.05)
