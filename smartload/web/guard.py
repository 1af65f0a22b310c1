"""What every request passes before routing: a Host this server answers to, and a body
that is not declared larger than the API reads.

The Host check stops DNS rebinding: a page from evil.example whose name is made to resolve
to 127.0.0.1 can reach the server, but its requests carry `Host: evil.example`. A name is
served only if it is localhost or listed in web.allowed_hosts; an address only if it is a
loopback one or the one the server is bound to (any address when bound to 0.0.0.0 or ::,
since a browser that names an address directly is no rebinding). A trusted proxy's requests
(web.trusted_proxies: Home Assistant's ingress, which passes the browser's Host on) skip it.
"""

from __future__ import annotations

import ipaddress
import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartload.view_types import Error
from smartload.web.inputs import MAX_BODY_BYTES

LOOPBACK_NAMES = ("localhost",)
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.%]+)\]|(?P<name>[^:\[\]]+))(?::\d{1,5})?$")


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class HostPolicy:
    def __init__(self, bound: str, allowed: list[str]) -> None:
        self._names = {n.lower().rstrip(".").strip("[]") for n in (*LOOPBACK_NAMES, *allowed)}
        bound_address = _address(bound.strip("[]"))
        self._any_address = bound_address is not None and bound_address.is_unspecified
        self._bound = bound_address
        if bound_address is None:  # bound by name (e.g. a container's hostname)
            self._names.add(bound.lower().rstrip("."))

    def allows(self, header: str) -> bool:
        match = _HOST.match(header.strip())
        if match is None:
            return False
        if match["v6"] is not None:
            address = _address(match["v6"])
            if address is None:
                return False
        else:
            name = match["name"].lower().rstrip(".")
            address = _address(name)
            if address is None:
                return name in self._names
        return address.is_loopback or self._any_address or address == self._bound or str(address) in self._names


def _answer(status: int, field: str, message: str) -> tuple[Message, Message]:
    answer: Error = {"error": f"{field}: {message}", "field": field}
    body = json.dumps(answer, separators=(",", ":")).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


class Guard:
    """Pure ASGI middleware (no buffering, so the event stream passes untouched)."""

    def __init__(self, app: ASGIApp, hosts: HostPolicy, trusted: tuple[str, ...] = ()) -> None:
        self._app = app
        self._hosts = hosts
        self._trusted = frozenset(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in reversed(scope["headers"])}  # the first of repeated ones
        host = headers.get(b"host")
        refusal: tuple[int, str, str] | None = None
        if host is None:
            refusal = (400, "host", "missing: send the Host header")
        elif not self._hosts.allows(host.decode("latin-1")) and (scope.get("client") or ("",))[0] not in self._trusted:
            refusal = (421, "host", "this server does not answer to that name; add it to web.allowed_hosts")
        else:
            length = headers.get(b"content-length", b"").strip()
            if length.isdigit() and (len(length) > 9 or int(length) > MAX_BODY_BYTES):
                refusal = (413, "body", f"must be at most {MAX_BODY_BYTES // 1024} kB")
        if refusal is None:
            await self._app(scope, receive, send)
            return
        start, body = _answer(*refusal)
        await send(start)
        await send(body)
