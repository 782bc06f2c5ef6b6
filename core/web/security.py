"""The console's locks and keys: the password hash, signed session cookies, CSRF tokens, the login
rate limit and the response headers every page carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.clock import now
from core.errors import UsageError
from core.web.models import WebSetting

PASSWORD_HASH_ENV = "INTEGRATOR_WEB_PASSWORD_HASH"
COOKIE = "integrator_console"
IDLE_SECONDS = 60 * 60  # a session unused this long ends
ABSOLUTE_SECONDS = 12 * 60 * 60  # and every session ends this long after its login
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 12

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


# -- the password -------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$digest`` (base64), as stored and as accepted in the environment."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the console password must be at least {MIN_PASSWORD} characters long")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.urlsafe_b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected), maxmem=128 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_hash(stored: str, where: str) -> str:
    """A hash from the environment must be one ``set-password --print-hash`` made: say so at start."""
    parts = stored.strip().split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(x.isdigit() for x in parts[1:4]):
        raise UsageError(f"{where} is not a console password hash: make one with "
                         "'integrator web set-password --print-hash'")
    return stored.strip()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


# -- settings kept in the database --------------------------------------------------------------

def read_setting(sessions: sessionmaker[Session], key: str) -> str | None:
    with sessions() as session:
        row = session.get(WebSetting, key)
        return row.value if row is not None else None


def write_setting(session: Session, key: str, value: str) -> None:
    row = session.get(WebSetting, key)
    if row is None:
        session.add(WebSetting(key=key, value=value, updated_at=now()))
    else:
        row.value, row.updated_at = value, now()


def store_password(sessions: sessionmaker[Session], password_hash: str) -> None:
    """Store the hash and a new session key in one transaction: every open session ends."""
    with sessions.begin() as session:
        write_setting(session, "password_hash", password_hash)
        write_setting(session, "session_key", secrets.token_urlsafe(32))


def session_key(sessions: sessionmaker[Session]) -> str:
    key = read_setting(sessions, "session_key")
    if key is None:
        with sessions.begin() as session:
            if session.get(WebSetting, "session_key") is None:
                write_setting(session, "session_key", secrets.token_urlsafe(32))
        key = read_setting(sessions, "session_key")
    assert key is not None
    return key


# -- sessions -----------------------------------------------------------------------------------

@dataclass
class ConsoleSession:
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    authenticated: bool = False
    login_at: float = 0.0

    @property
    def label(self) -> str:
        """What the record of actions names a session by: a digest, so the record holds no usable token."""
        return hashlib.sha256(self.sid.encode()).hexdigest()[:12]

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf)


class SessionSigner:
    """Sessions live in a signed cookie. What ends them lives in the database, so that it holds across
    restarts and across processes: the signing key (a new one with every stored password), a row
    ``revoked:<digest>`` per logged-out session, and the password hash, whose fingerprint each cookie
    carries (a new hash in $INTEGRATOR_WEB_PASSWORD_HASH ends every session too)."""

    def __init__(self, sessions: sessionmaker[Session], env_hash: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._sessions, self._env_hash, self._clock = sessions, env_hash, clock
        self._revoked_anonymous: dict[str, float] = {}  # pre-login sessions hold no right: memory is enough
        self._lock = threading.Lock()
        self._current: tuple[URLSafeTimedSerializer, str] | None = None
        session_key(sessions)  # made once, before the first cookie
        if env_hash:
            env_password_changes_key(sessions, env_hash)

    def _read(self, sid: str | None) -> tuple[URLSafeTimedSerializer, str, bool]:
        """The serializer for the current key, the current password's fingerprint, and whether ``sid``
        was logged out: one short read of the database."""
        names = ["session_key", "password_hash"] + ([revoked_key(sid)] if sid else [])
        with self._sessions() as session:
            rows = dict(session.execute(select(WebSetting.key, WebSetting.value)
                                        .where(WebSetting.key.in_(names))).all())
        key = rows.get("session_key") or session_key(self._sessions)
        password = self._env_hash or rows.get("password_hash") or ""
        fingerprint = hmac.new(key.encode(), password.encode(), hashlib.sha256).hexdigest()[:22]
        current = (URLSafeTimedSerializer(key, salt="integrator-web-session"), fingerprint)
        self._current = current
        return current[0], current[1], bool(sid) and revoked_key(sid) in rows

    def dumps(self, session: ConsoleSession) -> str:
        """Signed with what the last read found (every request reads it first; off the event loop)."""
        serializer, fingerprint = self._current or self._read(None)[:2]
        return serializer.dumps({"sid": session.sid, "csrf": session.csrf, "auth": session.authenticated,
                                 "login": session.login_at, "pw": fingerprint})

    def loads(self, cookie: str | None) -> ConsoleSession | None:
        """The cookie's session; None when it is not one or has ended. Reads the database: call it
        from a worker thread."""
        if not cookie:
            self._read(None)
            return None
        _, unverified = URLSafeTimedSerializer("", salt="integrator-web-session").loads_unsafe(cookie)
        sid = unverified.get("sid") if isinstance(unverified, dict) else None
        serializer, fingerprint, revoked = self._read(str(sid) if sid else None)
        try:
            data: dict[str, Any] = serializer.loads(cookie, max_age=IDLE_SECONDS)
        except (BadSignature, ValueError, TypeError):
            return None
        session = ConsoleSession(sid=str(data.get("sid")), csrf=str(data.get("csrf")),
                                 authenticated=bool(data.get("auth")), login_at=float(data.get("login") or 0))
        if revoked or not hmac.compare_digest(str(data.get("pw")), fingerprint):
            return None
        with self._lock:
            if session.sid in self._revoked_anonymous:
                return None
        if session.authenticated and self._clock() - session.login_at > ABSOLUTE_SECONDS:
            return None
        return session

    def revoke(self, session: ConsoleSession) -> None:
        """End the session for the rest of its lifetime (a logged-in one in the database, for every process)."""
        moment = self._clock()
        if not session.authenticated:
            with self._lock:
                self._revoked_anonymous = {s: t for s, t in self._revoked_anonymous.items()
                                           if moment - t < ABSOLUTE_SECONDS}
                self._revoked_anonymous[session.sid] = moment
            return
        with self._sessions.begin() as db:
            # A revoked session outlives nothing: past the absolute lifetime its cookie is refused anyway.
            cutoff = now() - timedelta(seconds=ABSOLUTE_SECONDS + IDLE_SECONDS)
            db.execute(delete(WebSetting).where(WebSetting.key.startswith(REVOKED_PREFIX),
                                                WebSetting.updated_at < cutoff))
            write_setting(db, revoked_key(session.sid), str(int(moment)))


REVOKED_PREFIX = "revoked:"


def env_password_changes_key(sessions: sessionmaker[Session], env_hash: str) -> None:
    """A hash in the environment that differs from the one the last start saw gets a new signing key, as
    'set-password' does: the sessions of the old password end, and going back to it revives none."""
    digest = hashlib.sha256(env_hash.encode()).hexdigest()
    with sessions.begin() as session:
        row = session.get(WebSetting, "env_password_digest")
        if row is None or not hmac.compare_digest(row.value, digest):
            if row is not None:
                write_setting(session, "session_key", secrets.token_urlsafe(32))
            write_setting(session, "env_password_digest", digest)


def revoked_key(sid: str) -> str:
    """A digest of the session id (the row holds no usable token), within the key column's 64 characters."""
    return REVOKED_PREFIX + hashlib.sha256(sid.encode()).hexdigest()[:48]


# -- the login rate limit -----------------------------------------------------------------------

class LoginLimiter:
    """At most ``per_client`` failed logins per client per ``window`` seconds; past ``overall`` failed
    logins in all (many addresses: a proxy's X-Forwarded-For is easy to vary), every login waits
    ``slowdown`` seconds first. The global limit slows guessing down; it never locks anyone out, so the
    right password from an address that has not failed always gets in."""

    def __init__(self, per_client: int = 5, overall: int = 50, window: float = 15 * 60, slowdown: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_client, self.overall, self.window, self._clock = per_client, overall, window, clock
        self.slowdown = slowdown
        self._failures: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, times: deque[float], moment: float) -> None:
        while times and moment - times[0] >= self.window:
            times.popleft()

    def attempt(self, client: str) -> tuple[int, float]:
        """Count a login attempt as failed until it succeeds (so parallel guesses cannot slip past the
        limit while their passwords are checked). Returns how many seconds the client must wait before
        it may try (0: it may try now) and how long to hold this attempt before checking it."""
        with self._lock:
            moment = self._clock()
            mine = self._failures.setdefault(client, deque())
            self._trim(mine, moment)
            self._trim(self._all, moment)
            if len(mine) >= self.per_client:
                return int(self.window - (moment - mine[0])) + 1, 0.0
            delay = self.slowdown if len(self._all) >= self.overall else 0.0
            mine.append(moment)
            self._all.append(moment)
            if len(self._failures) > 10_000:  # a flood of addresses must not grow memory without bound
                self._failures = {k: v for k, v in self._failures.items() if v and moment - v[-1] < self.window}
            if len(self._all) > 100 * self.overall:  # nor a flood of guesses: the count only decides "over"
                for _ in range(len(self._all) - 100 * self.overall):
                    self._all.popleft()
            return 0, delay

    def succeeded(self, client: str) -> None:
        with self._lock:
            mine = self._failures.pop(client, deque())
            if mine and mine[-1] in self._all:
                self._all.remove(mine[-1])


# -- response headers and the Host check --------------------------------------------------------

class SecurityHeaders:
    """ASGI middleware: the security headers on every response, HSTS over HTTPS, and a Host check
    (a page elsewhere that rebinds its name to this machine's loopback address gets a 400)."""

    def __init__(self, app: Any, allowed_hosts: list[str] | None) -> None:
        self.app = app
        self.allowed_hosts = [h.lower() for h in allowed_hosts] if allowed_hosts else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed_hosts is not None and _host_of(scope) not in self.allowed_hosts:
            await _plain(send, 400, b"unexpected Host header\n")
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _host_of(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = value.decode("latin-1").lower()
            if host.startswith("["):
                return host.split("]")[0] + "]"
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return ""


async def _plain(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *((k.encode(), v.encode()) for k, v in HEADERS.items())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
