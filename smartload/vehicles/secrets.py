"""Keeps credentials out of the messages providers raise and log.

Library exceptions may quote a request or a server reply; a provider builds its error
message from them only after `Scrubber.scrub`, and raises `from None` so the original
exception (whose args may hold a token) is not chained into a logged traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import SecretStr

MASK = "***"
# Shorter values would mask ordinary words in messages; no real credential is this short.
_MIN_LEN = 4


def reveal(value: SecretStr | str | None) -> str:
    if value is None:
        return ""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class Scrubber:
    """Masks every known secret value in a text. Secrets learnt later (tokens) are added."""

    def __init__(self, secrets: Iterable[SecretStr | str | None] = ()) -> None:
        self._values: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: SecretStr | str | None) -> None:
        value = reveal(secret)
        if len(value) >= _MIN_LEN:
            self._values.add(value)
            # A bearer header carries the token after the scheme; mask the bare token too.
            bare = value.split(" ", 1)[-1]
            if len(bare) >= _MIN_LEN:
                self._values.add(bare)

    def scrub(self, text: str) -> str:
        # Longest first, so a token that contains a shorter secret is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def describe(self, error: BaseException) -> str:
        """`Type: message` of an exception, with secrets masked and the length bounded."""
        text = str(error).strip()
        described = f"{type(error).__name__}: {text}" if text else type(error).__name__
        return self.scrub(described)[:300]

    def __repr__(self) -> str:
        return f"Scrubber({len(self._values)} values)"
