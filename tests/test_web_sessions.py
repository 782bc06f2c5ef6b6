"""Console sessions end when they should, across restarts of ``integrator web``: a logged-out cookie
stays logged out, and a new password (stored, or in INTEGRATOR_WEB_PASSWORD_HASH) ends every session."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from core.web.security import COOKIE, hash_password
from tests.processes import ROOT
from tests.web_process import web_process
from tests.web_support import CONSOLE_PASSWORD, csrf_of, log_in


def set_password(password: str = CONSOLE_PASSWORD) -> None:
    done = subprocess.run([sys.executable, "-m", "core.cli", "web", "set-password"], input=password + "\n",
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def logged_in_cookie(url: str, password: str = CONSOLE_PASSWORD) -> str:
    with httpx.Client(base_url=url) as client:
        assert log_in(client, password).status_code == 303
        return client.cookies[COOKIE]


def opens(url: str, cookie: str) -> bool:
    """Whether the cookie opens a page (else the console sends it to the login)."""
    with httpx.Client(base_url=url, cookies={COOKIE: cookie}) as client:
        response = client.get("/integrations", follow_redirects=False)
        assert response.status_code in (200, 303), response.status_code
        return response.status_code == 200


def log_out(url: str, cookie: str) -> None:
    with httpx.Client(base_url=url, cookies={COOKIE: cookie}) as client:
        token = csrf_of(client.get("/integrations").text)
        assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303


def test_a_logged_out_session_stays_logged_out_after_a_restart(config):
    set_password()
    with web_process() as first:
        kept = logged_in_cookie(first.url)
        gone = logged_in_cookie(first.url)
        log_out(first.url, gone)
        assert not opens(first.url, gone) and opens(first.url, kept)
    with web_process() as second:
        assert opens(second.url, kept)  # a restart alone ends nobody's session
        assert not opens(second.url, gone)


def test_a_new_password_in_the_environment_ends_every_session(config):
    first_hash, second_hash = hash_password(CONSOLE_PASSWORD), hash_password("another long password 2")
    with web_process(env={"INTEGRATOR_WEB_PASSWORD_HASH": first_hash}) as first:
        cookie = logged_in_cookie(first.url)
    with web_process(env={"INTEGRATOR_WEB_PASSWORD_HASH": first_hash}) as same:
        assert opens(same.url, cookie)
    with web_process(env={"INTEGRATOR_WEB_PASSWORD_HASH": second_hash}) as rotated:
        assert not opens(rotated.url, cookie)
        assert opens(rotated.url, logged_in_cookie(rotated.url, "another long password 2"))
    with web_process(env={"INTEGRATOR_WEB_PASSWORD_HASH": first_hash}) as back:
        assert not opens(back.url, cookie)  # and going back to the old hash does not revive it


def test_set_password_ends_the_sessions_of_a_running_console(config):
    set_password()
    with web_process() as server:
        cookie = logged_in_cookie(server.url)
        set_password("a brand new console password")
        assert not opens(server.url, cookie)


@pytest.mark.parametrize("forged", ["", "garbage", "a.b.c"])
def test_a_forged_cookie_opens_nothing(config, forged):
    set_password()
    with web_process() as server:
        assert not opens(server.url, forged)
