"""Settings of the web server: where it listens, its token, CORS and the host names it
answers to. The keep-alive of its event stream is wall-clock transport time."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

from pydantic import Field, SecretStr, field_validator

from smartload.settings.types import Duration, StrictModel

_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?$")


class WebSettings(StrictModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8099, ge=0, le=65535)
    # None: a token generated into <data_dir>/web_token at the first start and printed once.
    token: SecretStr | None = None
    cors_origins: list[str] = Field(default_factory=list)
    # Names besides localhost the server answers to (the Host header), e.g. smartload.local;
    # any other name is refused, so a DNS-rebinding page cannot read the API.
    allowed_hosts: list[str] = Field(default_factory=list)
    # Addresses of a reverse proxy that checks its users itself and passes the browser's
    # Host on (Home Assistant's ingress): their requests skip the Host check.
    trusted_proxies: list[str] = Field(default_factory=list)
    # A header by which such a proxy names the user it has logged in (Home Assistant's
    # ingress: X-Remote-User-Id): a write from a trusted proxy carrying it needs no token,
    # as the proxy has checked that user already. None: every write needs the token.
    proxy_user_header: str | None = Field(default=None, min_length=1, pattern=r"^[A-Za-z0-9-]+$")
    sse_keepalive: Duration = timedelta(seconds=15)

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"{address!r} is not an IP address such as 172.30.32.2") from None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        for name in value:
            try:
                ipaddress.ip_address(name.strip("[]"))
            except ValueError:
                if not _HOST_NAME.match(name):
                    raise ValueError(f"{name!r} is not a host name such as smartload.local (no scheme, no port)") \
                        from None
        return value
