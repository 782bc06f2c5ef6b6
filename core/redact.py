"""Keeping secrets out of what is shown or stored: one place that knows how a URL leaks them.

A URL can carry a password in its userinfo (``https://user:secret@host``), and webhook URLs
(Slack, Teams) carry their secret in the path. Every message that shows a URL, and every error
stored in ``sync_runs.errors``, goes through these helpers.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "***"
#: A setting whose name holds one of these words holds a secret ...
SECRET_WORDS = ("password", "token", "secret", "api_key", "apikey")
#: ... unless the name ends so: it says where a secret is kept (``password_file``, ``password_keyring``).
SECRET_PLACES = ("_file", "_keyring")
# scheme://userinfo@ anywhere in a text; the userinfo stops at the first '/', whitespace or quote.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@'\"<>]+)@")


def mask_url(url: str) -> str:
    """The URL with any password in its userinfo replaced by ``***`` (the user name is kept)."""
    return mask_urls_in(url)


def mask_urls_in(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it masked."""
    if "@" not in text:
        return text

    def masked(match: re.Match[str]) -> str:
        user, colon, _ = match["userinfo"].partition(":")
        return f"{match['scheme']}{user}:{MASK}@" if colon else f"{match['scheme']}{MASK}@"

    return _USERINFO.sub(masked, text)


def url_origin(url: str) -> str:
    """Scheme and host (and port) only: how a URL whose path or query is a secret is shown."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme or '?'}://{host}" + (f":{port}" if port else "")


_REASONS = ("Connection refused", "Name or service not known", "No address associated", "Connection reset",
            "Remote end closed", "certificate verify failed", "timed out", "Network is unreachable",
            "No route to host")


def short_reason(exc: BaseException) -> str:
    """The innermost reason of a network error on one line (``connection refused``), else its first
    line with any URL password masked."""
    text = str(exc)
    lowered = text.lower()
    for marker in _REASONS:
        if marker.lower() in lowered:
            return marker.lower()
    return mask_urls_in(text.splitlines()[0][:200]) if text else type(exc).__name__


def is_secret_setting(name: object) -> bool:
    """THE rule for "is this setting a secret?": its name holds a secret word (password, token, secret,
    api key) and does not say where a secret is kept. A secret is never shown, echoed in an error, or
    read by a command that does not need it; the configuration, the console and the CLI all ask here."""
    key = str(name).lower()
    return any(word in key for word in SECRET_WORDS) and not key.endswith(SECRET_PLACES)


def is_secret_place(name: object) -> bool:
    """A setting that says where a secret is kept (``password_file``, ``api_key_keyring``): shown, but
    not read by a command that needs no secret."""
    key = str(name).lower()
    return any(word in key for word in SECRET_WORDS) and key.endswith(SECRET_PLACES)
