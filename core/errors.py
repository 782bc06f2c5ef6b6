"""The exception tree. Every message is written for the person running the integrator."""

from __future__ import annotations


class IntegratorError(Exception):
    """Base of every expected failure; ``str()`` is a one-line message a person can act on.

    A value quoted in a message (a config key, a vendor's name) may hold a line break: it is shown
    escaped, so the message stays one line in a terminal and one JSON log line.
    """

    def __str__(self) -> str:
        text = super().__str__()
        if "\n" in text or "\r" in text:
            text = text.replace("\r", "\\r").replace("\n", "\\n")
        return text


class ConfigError(IntegratorError):
    """The configuration file is missing, unreadable or invalid."""


class DatabaseError(IntegratorError):
    """The PSA database cannot be opened, upgraded or written."""


class PluginError(IntegratorError):
    """A plugin is missing, failed to load, or does not implement a hook."""


class UsageError(IntegratorError):
    """A command was asked for something that cannot be done (unknown customer, duplicate mapping...)."""


class LockedError(IntegratorError):
    """Another process is already syncing the same integration."""


class LockLostError(IntegratorError):
    """A sync lost its integration's lock part-way (its lock connection was cut): it must write nothing more."""


class VendorError(IntegratorError):
    """The vendor's API failed or answered something unusable."""


class AuthenticationError(VendorError):
    """The vendor refused the credentials."""


class MfaNotSupportedError(AuthenticationError):
    """The vendor account has multi-factor authentication, which the API cannot use."""


class PermissionDeniedError(VendorError):
    """The vendor account lacks the rights the integration needs."""


class VendorUnreachableError(VendorError):
    """The vendor's host cannot be reached (DNS, refused, timeout, TLS)."""


class VendorProtocolError(VendorError):
    """The vendor answered something that is not what its API promises (HTML page, broken JSON)."""


class VendorFaultError(VendorError):
    """The vendor answered with a fault carrying its own message."""


class SessionExpiredError(VendorError):
    """The vendor session expired and logging in again did not help."""
