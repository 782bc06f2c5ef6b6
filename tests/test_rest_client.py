"""core.vendor's REST client, as a plugin author uses it, against a loopback API: OAuth2 and session
tokens renewed once on a 401, page-number paging, a capped Retry-After, AIMD pacing in a 429 storm,
TLS verification that cannot be turned off, and no secret of the URL in any message or log line."""

from __future__ import annotations

import inspect
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from core.errors import (
    AuthenticationError,
    VendorFaultError,
    VendorProtocolError,
    VendorUnreachableError,
)
from core.vendor import (
    BearerToken,
    HttpClient,
    OAuth2ClientCredentials,
    PageNumberPaginator,
    RESTClient,
    SessionLogin,
)

SECRET = "s3cret-client-secret"


@dataclass
class Api:
    """What the loopback API answers: ``route(method, path, query, headers, body) -> (status, body, headers)``."""

    route: Callable[..., tuple[int, Any, dict[str, str]]] | None = None
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, key: str) -> int:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]


def make_handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            with api.lock:
                api.seen.append((self.command, parts.path, self.headers.get("Authorization")))
            assert api.route is not None
            status, answer, headers = api.route(self.command, parts.path, parse_qs(parts.query), self.headers, body)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

    return Handler


def serve(api: Api, tls: ssl.SSLContext | None = None) -> Iterator[tuple[Api, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if tls else "http"
    try:
        yield api, f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api() -> Iterator[tuple[Api, str]]:
    yield from serve(Api())


class Acme(RESTClient):
    vendor = "Acme"


def token_route(api: Api, *, lifetime: int = 3600, refuse: bool = False,
                calls: Callable[..., tuple[int, Any, dict[str, str]]] | None = None):
    """An OAuth2 token endpoint at /token (tokens tok-1, tok-2, ...) and an API that accepts the newest."""
    current: dict[str, str] = {}

    def route(method, path, query, headers, body):
        if path == "/token":
            sent = json.loads(body)
            assert sent["grant_type"] == "client_credentials" and sent["audience"] == "api://acme"
            if refuse or sent["client_secret"] != SECRET:
                return 401, {"error": "invalid_client", "error_description": "Bad client credentials"}, {}
            current["token"] = f"tok-{api.count('token')}"
            return 200, {"access_token": current["token"], "expires_in": lifetime, "token_type": "Bearer"}, {}
        if headers.get("Authorization") != f"Bearer {current.get('token')}":
            return 401, {"message": "token expired"}, {}
        return calls(method, path, query, headers, body) if calls else (200, {"ok": True}, {})

    return route, current


def oauth(url: str, secret: str = SECRET, **kw: Any) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(f"{url}/token", "client-1", secret, audience="api://acme", **kw)


# -- auth ----------------------------------------------------------------------------------------

def test_oauth2_token_is_fetched_once_and_reused_until_a_401_then_renewed_exactly_once(api):
    server, url = api
    server.route, current = token_route(server)
    client = Acme(url, auth=oauth(url), backoff=0)
    for _ in range(3):
        assert client.get_json("/me") == {"ok": True}
    assert server.counts["token"] == 1
    current["token"] = "revoked"  # the API no longer accepts the token held
    assert client.get_json("/me") == {"ok": True}
    assert server.counts["token"] == 2
    assert [auth for _, path, auth in server.seen if path == "/me"][-2:] == ["Bearer tok-1", "Bearer tok-2"]
    assert SECRET not in repr(client) + repr(vars(client)) + repr(client.auth)


def test_a_401_seen_by_many_threads_at_once_gets_one_new_token(api):
    server, url = api
    server.route, current = token_route(server)
    client = Acme(url, auth=oauth(url), backoff=0, pool_size=16)
    client.get_json("/me")
    current["token"] = "revoked"
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: client.get_json("/me"), range(64)))
    assert answers == [{"ok": True}] * 64
    assert server.counts["token"] == 2


def test_a_token_that_is_refused_again_after_renewal_is_an_authentication_error_not_a_loop(api):
    server, url = api
    route, _ = token_route(server)
    server.route = lambda m, p, q, h, b: route(m, p, q, h, b) if p == "/token" else (401, {"message": "nope"}, {})
    client = Acme(url, auth=oauth(url), backoff=0)
    said = r"Acme refused the credentials \(GET .*/me: 401\) \(Acme said: nope\)"
    with pytest.raises(AuthenticationError, match=said):
        client.get_json("/me")
    assert server.counts["token"] == 2  # the first token and exactly one renewal
    assert [p for _, p, _ in server.seen].count("/me") == 2


def test_a_token_near_its_expiry_is_renewed_before_use(api):
    server, url = api
    server.route, _ = token_route(server, lifetime=30)
    client = Acme(url, auth=oauth(url, leeway=60), backoff=0)  # lives 30 s, renewed 60 s before: every call
    client.get_json("/me")
    client.get_json("/me")
    assert server.counts["token"] == 2
    assert [auth for _, path, auth in server.seen if path == "/me"] == ["Bearer tok-1", "Bearer tok-2"]


def test_refused_client_credentials_are_said_once_and_never_retried_by_other_threads(api):
    server, url = api
    server.route, _ = token_route(server)
    client = Acme(url, auth=oauth(url, secret="wrong-secret"), backoff=0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(client.get_json, "/me") for _ in range(16)]
    messages = set()
    for future in futures:
        with pytest.raises(AuthenticationError) as info:
            future.result()
        messages.add(str(info.value))
    assert [p for _, p, _ in server.seen] == ["/token"]
    (message,) = messages
    assert "refused the client credentials of client-1" in message and "Bad client credentials" in message
    assert "wrong-secret" not in message


def test_a_session_login_is_renewed_once_on_a_401_and_logged_out_at_close(api):
    server, url = api
    sessions: dict[str, str] = {}

    def route(method, path, query, headers, body):
        if path == "/login":
            sessions["live"] = f"session-{server.count('login')}"
            return 200, {"session": sessions["live"]}, {}
        if path == "/logout":
            server.count("logout")
            return 200, {}, {}
        if headers.get("Authorization") != f"Session {sessions.get('live')}":
            return 401, {}, {}
        return 200, [1, 2], {}

    server.route = route
    login = SessionLogin(lambda c: c.send("POST", "/login", body=b"{}").json()["session"], scheme="Session",
                         logout=lambda c, token: c.send("POST", "/logout", body=b"{}"))
    client = Acme(url, auth=login, backoff=0)
    assert client.get_json("/items") == [1, 2]
    sessions["live"] = "gone"
    assert client.get_json("/items") == [1, 2]
    assert server.counts["login"] == 2
    client.close()
    assert server.counts["logout"] == 1


def test_a_bearer_token_is_sent_as_is(api):
    server, url = api
    server.route = lambda m, p, q, h, b: (200, {"auth": h.get("Authorization")}, {})
    assert Acme(url, auth=BearerToken("k-1")).get_json("/me") == {"auth": "Bearer k-1"}


# -- paging ------------------------------------------------------------------------------------

def spring_pages(items: list[int], size_default: int, first_page: int, totals: bool):
    def route(method, path, query, headers, body):
        page, size = int(query["page"][0]) - first_page, int(query.get("size", [size_default])[0])
        content = items[page * size:(page + 1) * size]
        answer: dict[str, Any] = {"content": content}
        if totals:
            pages = -(-len(items) // size)
            answer["page"] = {"size": size, "number": page, "totalElements": len(items), "totalPages": pages}
        return 200, answer, {}
    return route


@pytest.mark.parametrize("first_page", [0, 1])
def test_page_number_paging_stops_when_the_totals_say_done(api, first_page):
    server, url = api
    server.route = spring_pages(list(range(45)), 10, first_page, totals=True)
    client = Acme(url, paginator=PageNumberPaginator(size=10, first_page=first_page))
    assert client.get_all("/companies") == list(range(45))
    assert len(server.seen) == 5  # five pages, no sixth asking for an empty one


def test_page_number_paging_without_totals_stops_at_an_empty_page(api):
    server, url = api
    server.route = spring_pages(list(range(20)), 10, 1, totals=False)
    pages = list(Acme(url).paginate("/things", paginator=PageNumberPaginator(size=10, first_page=1)))
    assert pages == [list(range(10)), list(range(10, 20)), []]


def test_a_page_that_is_not_a_list_is_a_protocol_error(api):
    server, url = api
    server.route = lambda m, p, q, h, b: (200, {"content": {"oops": 1}}, {})
    with pytest.raises(VendorProtocolError, match="not a list"):
        Acme(url, paginator=PageNumberPaginator()).get_all("/things")


# -- retries and pacing ------------------------------------------------------------------------

def test_a_long_retry_after_is_capped(api):
    server, url = api

    def route(method, path, query, headers, body):
        if server.count("calls") == 1:
            return 503, {"message": "maintenance"}, {"Retry-After": "3600"}
        return 200, {"ok": True}, {}

    server.route = route
    client = Acme(url, max_retry_after=0.2, backoff=0)
    started = time.monotonic()
    assert client.get_json("/me") == {"ok": True}
    assert time.monotonic() - started < 30  # not an hour: the wait was cut to 0.2 s
    assert server.counts["calls"] == 2


def test_a_429_storm_halves_the_calls_in_flight_and_every_call_succeeds(api, caplog):
    server, url = api
    in_flight = {"now": 0}

    def route(method, path, query, headers, body):
        with server.lock:
            refused = in_flight["now"] >= 3
            if not refused:
                in_flight["now"] += 1
        if refused:
            server.count("throttled")
            return 429, {"message": "slow down"}, {"Retry-After": "0"}
        time.sleep(0.005)  # the API's own work, so calls overlap
        with server.lock:
            in_flight["now"] -= 1
        return 200, [1], {}

    server.route = route
    client = Acme(url, backoff=0.001, retries=20, pool_size=16)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: client.get_json("/x"), range(200)))
    assert answers == [[1]] * 200
    pace = client.pace()
    assert pace.throttled == server.counts["throttled"] > 0
    assert pace.limit_lowest < 16
    with caplog.at_level(logging.INFO):
        client.close()
    assert any("Acme:" in r.getMessage() and "backed off from 16 to" in r.getMessage() for r in caplog.records)


def test_a_post_is_not_retried_unless_its_method_is_named(api):
    server, url = api
    def route(method, path, query, headers, body):
        server.count("calls")
        return 503, {}, {"Retry-After": "0"}

    server.route = route
    with pytest.raises(VendorUnreachableError, match="answered 503 to POST .* after 1 tries"):
        Acme(url, backoff=0).post_json("/orders", {"a": 1})
    assert server.counts["calls"] == 1


# -- TLS and secrets ---------------------------------------------------------------------------

def test_tls_verification_is_always_on_and_cannot_be_turned_off(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throw-away certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    api = Api(route=lambda *a: (200, {"ok": True}, {}))
    for server, url in serve(api, tls=context):
        with pytest.raises(VendorUnreachableError, match="TLS verification of 127.0.0.1 failed.*never turned off"):
            Acme(url, retries=0).get_json("/me")
        assert server.seen == []  # nothing was sent over the unverified connection
    assert not {"verify", "cert_reqs", "insecure"} & set(inspect.signature(RESTClient).parameters)


def test_no_secret_of_the_url_appears_in_any_message_or_log(api, caplog):
    server, url = api
    secret_url = url.replace("http://", "http://user:pw-secret@") + "/v1"
    server.route = lambda m, p, q, h, b: (500, {"message": "boom"}, {})
    client = Acme(secret_url, retries=1, backoff=0)
    shown: list[str] = [repr(client)]
    with caplog.at_level(logging.DEBUG):
        said = r"Acme answered 500 to GET http://127.0.0.1:\d+/v1/x \(Acme said: boom\)"
        with pytest.raises(VendorFaultError, match=said) as info:
            client.get_json("/x", params={"token": "q-secret"})
        shown.append(str(info.value))
        server.route = lambda m, p, q, h, b: (200, b"<html>login</html>", {"Content-Type": "text/html"})
        with pytest.raises(VendorProtocolError, match=r"not JSON \(text/html\)") as info:
            client.get_json("/x")
        shown.append(str(info.value))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(VendorUnreachableError) as info:
        Acme(f"http://user:pw-secret@127.0.0.1:{port}/v1", retries=0).get_json("/x", params={"key": "key-secret"})
    assert f"cannot reach Acme at http://127.0.0.1:{port}/v1/x: connection refused" in str(info.value)
    shown.append(str(info.value))
    shown += [r.getMessage() for r in caplog.records]
    for text in shown:
        for secret in ("pw-secret", "key-secret", "q-secret"):
            assert secret not in text, text


def test_httpclient_is_the_rest_client_under_its_old_name():
    assert HttpClient is RESTClient


def test_requests_per_minute_spaces_the_calls_after_a_burst(api):
    clock = {"now": 1000.0}
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["now"] += seconds

    server, url = api
    server.route = lambda m, p, q, h, b: (200, {"ok": True}, {})
    client = Acme(url, requests_per_minute=120)  # 2 a second, a burst of 2
    assert client.rate is not None
    client.rate._clock, client.rate._sleep, client.rate._stamp = (lambda: clock["now"]), sleep, clock["now"]
    for _ in range(6):
        client.get_json("/me")
    assert len(server.seen) == 6
    assert sum(slept) == pytest.approx(2.0)  # the first two at once, then one every half second
