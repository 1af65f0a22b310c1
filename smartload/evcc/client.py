"""An async HTTP client for evcc's REST API: state, tariffs and the write endpoints.

Reads return raw bytes, so the parser (state.py) and the recorder see exactly what evcc
sent. Failures are exceptions with a kind and a one-line message that never contains
the password or API key: EvccUnavailable for reads and transport/auth trouble,
EvccWriteError for a write evcc refused.

Auth: evcc's public endpoints need none: /api/state and every loadpoint and battery write
work without login (a password only guards configuration). With a password, the client
logs in lazily (`POST /api/auth/login` sets the `auth` cookie) and logs in once more when
evcc answers 401; with an API key (evcc 0.309+) it sends `Authorization: Bearer <key>`.
A login evcc refuses (401: a wrong password; 403: evcc in demo mode) is one warning
naming the setting, and the client goes on without the cookie rather than treat evcc
as unreachable.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from loguru import logger

UnavailableKind = Literal["connect", "timeout", "http", "auth"]

TARIFF_KINDS = frozenset({"grid", "feedin", "co2", "planner", "solar", "temperature"})
_MAX_MESSAGE = 300


class EvccError(Exception):
    """Anything that went wrong talking to evcc."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EvccUnavailable(EvccError):
    """evcc could not be asked: connect, timeout, an HTTP error status, or auth."""

    def __init__(self, kind: UnavailableKind, message: str) -> None:
        super().__init__(message)
        self.kind: UnavailableKind = kind


class EvccWriteError(EvccError):
    """evcc refused a write (4xx/5xx); message is evcc's own `error` text when it sent one."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class EvccClient:
    """One evcc instance. Use as `async with EvccClient(url, timeout_s=5) as evcc: ...`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        password: str | None = None,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        # An http:// evcc (the usual one, on the LAN) never speaks TLS: every request goes to
        # base_url and redirects are not followed. Only an https:// one loads the CA bundle
        # for verifying (tens of ms at start, before the first poll).
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout_s), headers=headers, transport=transport,
            verify=urlsplit(base_url).scheme.lower() != "http",
        )
        self._timeout_s = timeout_s
        self._password = password or None
        self._secrets = tuple(secret for secret in (password, api_key) if secret)
        self._logins = 0  # counts successful logins, so concurrent 401s log in only once
        self.login_refused: int | None = None  # evcc's answer to a refused login, if it was
        self._login_lock = asyncio.Lock()

    async def __aenter__(self) -> EvccClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- reads --------------------------------------------------------------------------

    async def get_state(self) -> bytes:
        """The raw `/api/state` body. Raises EvccUnavailable."""
        response = await self._send("GET", "/api/state")
        if not response.is_success:
            raise EvccUnavailable("http", self._status_message("GET", "/api/state", response))
        return response.content

    async def get_tariff(self, kind: str) -> bytes | None:
        """The raw `/api/tariff/<kind>` body, or None if evcc has no such tariff (404)."""
        if kind not in TARIFF_KINDS:
            raise ValueError(f"unknown tariff {kind!r}; one of {', '.join(sorted(TARIFF_KINDS))}")
        path = f"/api/tariff/{kind}"
        response = await self._send("GET", path)
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if not response.is_success:
            raise EvccUnavailable("http", self._status_message("GET", path, response))
        return response.content

    # -- writes -------------------------------------------------------------------------

    async def post(self, path: str, *, json_body: Any = None) -> Any:
        """POST a write endpoint; returns evcc's answer, decoded and unwrapped from `result`.

        Raises EvccWriteError when evcc refuses, EvccUnavailable when it cannot be asked.
        """
        return self._write_result("POST", path, await self._send("POST", path, json_body=json_body))

    async def delete(self, path: str) -> Any:
        """DELETE a write endpoint (e.g. `.../smartcostlimit`); as post()."""
        return self._write_result("DELETE", path, await self._send("DELETE", path))

    # -- plumbing -----------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, json_body: Any = None) -> httpx.Response:
        path = path if path.startswith("/") else "/" + path
        logins = self._logins
        if self._password and logins == 0:
            await self._login(logins)
            logins = self._logins
        response = await self._attempt(method, path, json_body)
        if response.status_code != httpx.codes.UNAUTHORIZED:
            return self._forbidden_is_auth(method, path, response)
        if not self._password:
            if self.login_refused is not None:
                hint = f"evcc wants a login and refused evcc.password (HTTP {self.login_refused})"
            elif self._secrets:
                hint = "API key rejected"
            else:
                hint = "evcc wants a login: set evcc.password or evcc.api_key"
            raise EvccUnavailable("auth", f"{method} {path}: HTTP 401 ({hint})")
        logger.info("evcc answered 401 to {} {}; logging in again", method, path)
        await self._login(logins)
        response = await self._attempt(method, path, json_body)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            again = "evcc refused evcc.password" if self.login_refused is not None else "even after logging in again"
            raise EvccUnavailable("auth", f"{method} {path}: HTTP 401 ({again})")
        return self._forbidden_is_auth(method, path, response)

    def _forbidden_is_auth(self, method: str, path: str, response: httpx.Response) -> httpx.Response:
        if response.status_code == httpx.codes.FORBIDDEN and method == "GET":
            raise EvccUnavailable("auth", self._status_message(method, path, response))
        return response

    async def _login(self, seen_logins: int) -> None:
        async with self._login_lock:
            if self._logins != seen_logins:
                return  # another request logged in while this one waited
            path = "/api/auth/login"
            response = await self._attempt("POST", path, {"password": self._password})
            if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
                why = "wrong password?" if response.status_code == httpx.codes.UNAUTHORIZED else "evcc in demo mode?"
                logger.warning("evcc refused the login with evcc.password (HTTP {}: {}); smartload goes on without "
                               "it: evcc serves its state and the loadpoint and battery settings without a login",
                               response.status_code, why)
                self._password = None
                self.login_refused = response.status_code
                return
            if not response.is_success:
                raise EvccUnavailable("http", self._status_message("POST", path, response))
            self._logins += 1
            logger.debug("logged in to evcc")

    async def _attempt(self, method: str, path: str, json_body: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, json=json_body)
        except httpx.TimeoutException as exc:
            what = f"no answer within {self._timeout_s:g} s ({type(exc).__name__})"
            raise EvccUnavailable("timeout", self._clean(f"{method} {path}: {what}")) from None
        except httpx.TransportError as exc:
            detail = str(exc) or type(exc).__name__
            raise EvccUnavailable("connect", self._clean(f"{method} {path}: {detail}")) from None

    def _write_result(self, method: str, path: str, response: httpx.Response) -> Any:
        if not response.is_success:
            raise EvccWriteError(response.status_code, self._status_message(method, path, response))
        if not response.content.strip():
            return None
        try:
            value = response.json()
        except (ValueError, UnicodeDecodeError):
            raise EvccWriteError(response.status_code, f"{method} {path}: the answer is not JSON") from None
        if isinstance(value, dict) and len(value) == 1 and "result" in value:
            return value["result"]  # evcc before 0.207 wrapped every answer
        return value

    def _status_message(self, method: str, path: str, response: httpx.Response) -> str:
        message = f"{method} {path}: HTTP {response.status_code} {response.reason_phrase}".rstrip()
        error = _evcc_error(response)
        return self._clean(f"{message}: {error}" if error else message)

    def _clean(self, text: str) -> str:
        """One line, bounded, with any secret masked (evcc may echo input in errors)."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = " ".join(text.split())
        return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _evcc_error(response: httpx.Response) -> str | None:
    """evcc's `{"error": "..."}` text (also inside the pre-0.207 `result` wrapper)."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip() if len(response.content) <= 200 else ""
        return text or None
    if isinstance(body, dict) and isinstance(body.get("result"), dict) and "error" not in body:
        body = body["result"]
    error = body.get("error") if isinstance(body, dict) else None
    return str(error) if error not in (None, "") else None
