"""Where a secret comes from: the environment (through ${VAR}), a private file, or the OS keyring."""

from __future__ import annotations

import stat
from pathlib import Path


def read_secret_file(path: str, key: str = "password_file") -> str:
    """The file's content without its trailing newline; refused when group or others may read it."""
    file = Path(path)
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        raise ValueError(f"{key} {path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"{key} {path} cannot be read: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{key} {path} is readable by others (mode {stat.S_IMODE(mode):o}): run chmod 600 on it")
    try:
        value = file.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{key} {path} cannot be read: {exc}") from None
    if not value:
        raise ValueError(f"{key} {path} is empty")
    return value


def read_keyring(service: str, username: str) -> str:
    """The password stored in the OS keyring for ``username`` under ``service``."""
    try:
        import keyring  # optional: only where an OS keyring exists
    except ImportError:
        raise ValueError("password_keyring needs the 'keyring' package (pip install keyring)") from None
    try:
        value = keyring.get_password(service, username)
    except Exception as exc:  # keyring backends raise their own types
        raise ValueError(f"the OS keyring could not be read: {exc}") from None
    if not value:
        raise ValueError(f"the OS keyring holds no password for {username} under {service!r}")
    return value


def resolve_password(data: dict[str, object]) -> dict[str, object]:
    """For a settings block: exactly one of password, password_file, password_keyring, read into password."""
    given = [k for k in ("password", "password_file", "password_keyring") if data.get(k) not in (None, "")]
    if len(given) != 1:
        raise ValueError("give exactly one of password, password_file or password_keyring"
                         + (f" (found {', '.join(given)})" if given else ""))
    if given[0] == "password_file":
        return {**data, "password": read_secret_file(str(data["password_file"]))}
    if given[0] == "password_keyring":
        return {**data, "password": read_keyring(str(data["password_keyring"]), str(data.get("username", "")))}
    return data
