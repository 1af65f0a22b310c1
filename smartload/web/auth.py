"""The bearer token every write needs: from settings, or generated once into the data
directory (mode 0600). The caller prints a generated token once; nothing logs it."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from smartload.settings.web import WebSettings

TOKEN_FILE = "web_token"


def load_token(web: WebSettings, data_dir: Path) -> tuple[str, bool]:
    """The token and whether it was generated just now."""
    if web.token is not None:
        return web.token.get_secret_value(), False
    path = data_dir / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, False
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    # Created with 0600 from the start, so no other user can read it even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    return token, True


def bearer_ok(header: str | None, token: str) -> bool:
    if header is None:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
