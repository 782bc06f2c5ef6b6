"""The alerts block of the configuration: where alerts go (webhooks, e-mail) and on which events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator

from core.config.secrets import read_secret_file
from core.config.settings import check_vendor_url, is_loopback_host
from core.redact import short_reason

Event = Literal["failed", "partial", "held_back", "stale", "leak"]


class EmailAlerts(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    smtp_host: str
    smtp_port: int = 587
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    username: str | None = None
    password: SecretStr | None = None
    password_file: str | None = None
    starttls: bool | None = None  # the older spelling of tls: true is starttls, false is none
    #: starttls (upgrade on smtp_port, usually 587), ssl (TLS from the first byte, usually 465) or none.
    #: The server's certificate and host name are always checked, against ca_file when given.
    tls: Literal["starttls", "ssl", "none"] | None = Field(default=None, validate_default=True)
    ca_file: str | None = None

    @field_validator("tls")
    @classmethod
    def _tls(cls, value: str | None, info: ValidationInfo) -> str:
        starttls = info.data.get("starttls")
        if value is None:
            value = "none" if starttls is False else "starttls"
        elif starttls is not None and (value == "starttls") != starttls:
            raise ValueError(f"tls: {value} contradicts starttls: {str(starttls).lower()} (keep tls alone)")
        host = info.data.get("smtp_host")
        if value == "none" and info.data.get("password") is not None and not is_loopback_host(host):
            raise ValueError(f"none would send the SMTP password in the clear to {host}: use starttls or ssl")
        return value

    @field_validator("ca_file")
    @classmethod
    def _ca_file(cls, value: str | None) -> str | None:
        if value is not None:
            import ssl

            try:
                ssl.create_default_context(cafile=value)
            except FileNotFoundError:
                raise ValueError(f"{value} does not exist") from None
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"{value} holds no usable PEM certificate ({short_reason(exc)})") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _password_file(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("password_file"):
            return {**data, "password": read_secret_file(str(data["password_file"]))}
        return data


class AlertSettings(BaseModel):
    """``alerts:`` in the configuration."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True, allow_inf_nan=False)

    webhook_url: str | None = None
    email: EmailAlerts | None = None
    on: list[Event] = Field(default_factory=lambda: ["failed", "partial", "held_back", "stale", "leak"])
    timeout_seconds: float = 10.0

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return check_vendor_url(value) if value else value
