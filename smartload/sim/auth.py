"""evcc's login as the simulator plays it (server/http_auth.go, util/auth/auth.go, cmd/root.go).

/api/state and every loadpoint, vehicle and battery write are public in evcc: the password
guards only configuration, which the simulator does not serve. What it does serve:

- `POST /api/auth/login` `{"password": ...}`: 403 "Forbidden in demo mode" when locked
  (--demo); 400 for a body that is not JSON; 401 "Invalid password" for a wrong one (or
  when evcc has none); else 200, empty, with `Set-Cookie: auth=<JWT>` (HS256, subject
  admin, 90 days; Path=/, HttpOnly, SameSite=Strict).
- `GET /api/auth/status`: `true` with auth disabled; 403 when locked; 501 "Not
  implemented" without an admin password; else `true`/`false` by the auth cookie.
- `POST /api/auth/logout`: 200, the cookie emptied.

Error bodies are Go's http.Error: text/plain with a trailing newline. The cookie's expiry
is wall-clock time, as evcc's (a client's cookie jar checks it against its own clock).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from smartload.settings.sim import SimSettings

COOKIE = "auth"
LIFETIME_S = 90 * 24 * 3600
_JSON = "application/json; charset=UTF-8"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SimAuth:
    def __init__(self, settings: SimSettings) -> None:
        self.mode = settings.auth_mode
        self.disabled_flag = settings.auth_disabled
        self.demo = settings.demo_mode
        password = settings.admin_password
        self._password = password.get_secret_value() if password is not None else None
        self._secret = secrets.token_bytes(32)
        self.logins = 0

    def annotate(self, state: dict[str, Any]) -> None:
        """The keys evcc's start publishes: authDisabled only with --disable-auth, demoMode."""
        if not self.disabled_flag:
            state.pop("authDisabled", None)
        state["demoMode"] = self.demo

    async def handle(self, method: str, path: str, request: Request) -> Response | None:
        """The answer to an /api/auth request, or None when evcc has no such route."""
        if (method, path) == ("POST", "/api/auth/login"):
            return await self._login(request)
        if (method, path) == ("GET", "/api/auth/status"):
            return self._status(request)
        if (method, path) == ("POST", "/api/auth/logout"):
            response = self._empty()
            response.headers["Set-Cookie"] = f"{COOKIE}=; Path=/; HttpOnly"
            return response
        return None

    # --- handlers ------------------------------------------------------------------------

    async def _login(self, request: Request) -> Response:
        if self.mode == "locked":
            return self._error(403, "Forbidden in demo mode")
        body = await request.body()
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # Go's json.Decoder: an empty body is EOF; anything else not an object is refused.
            return self._error(400, "EOF" if not body.strip() else "invalid character in request body")
        password = data.get("password")
        if not self._valid(password if isinstance(password, str) else ""):
            return self._error(401, "Invalid password")
        self.logins += 1
        expires = time.time() + LIFETIME_S
        response = self._empty()
        response.headers["Set-Cookie"] = (f"{COOKIE}={self._token(expires)}; Path=/; "
                                          f"Expires={formatdate(expires, usegmt=True)}; HttpOnly; SameSite=Strict")
        return response

    def _status(self, request: Request) -> Response:
        if self.mode == "disabled":
            return self._text("true")
        if self.mode == "locked":
            return self._error(403, "Forbidden in demo mode")
        if self._password is None:
            return self._error(501, "Not implemented")
        return self._text("true" if self.valid_cookie(request.cookies.get(COOKIE, "")) else "false")

    # --- the token --------------------------------------------------------------------------

    def _valid(self, password: str) -> bool:
        return self._password is not None and hmac.compare_digest(password.encode(), self._password.encode())

    def _token(self, expires: float) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        claims = _b64(json.dumps({"sub": "admin", "exp": int(expires)}, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        return f"{header}.{claims}.{_b64(signature)}"

    def valid_cookie(self, token: str) -> bool:
        """evcc's ValidateJwtToken: signed by this evcc and not expired (wall clock)."""
        parts = token.split(".")
        if len(parts) != 3:
            return False
        header, claims, signature = parts
        expected = hmac.new(self._secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(signature), expected):
                return False
            exp = json.loads(_unb64(claims)).get("exp", 0)
        except (ValueError, AttributeError):
            return False
        return isinstance(exp, int) and exp > time.time()

    # --- responses --------------------------------------------------------------------------

    def _error(self, status: int, message: str) -> Response:
        # Go's http.Error: plain text, a newline after the message.
        return PlainTextResponse(message + "\n", status_code=status,
                                 headers={"X-Content-Type-Options": "nosniff"})

    def _text(self, body: str) -> Response:
        return Response(body, headers={"Content-Type": _JSON})

    def _empty(self) -> Response:
        return Response(b"", headers={"Content-Type": _JSON})
