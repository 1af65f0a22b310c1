"""loguru configuration: readable or JSON lines, secrets redacted, stdlib intercepted.

Tracebacks are redacted too: each handler's stream redacts the finished entry, traceback
included (a URL with a password, a header), and no handler dumps variables (`diagnose`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from types import FrameType
from typing import Any, TextIO

from loguru import logger

from smartload.settings.types import secret_name

# Values following these words are masked wherever they appear in a message or extra field;
# after a mere space, not an aside in brackets ("evcc.password (HTTP 401)" names a setting).
# Whole words only: in running text the wider secret_name test ("key", "auth", "pass")
# would mask ordinary words and what follows them. An extra field named by secret_name
# is masked whole.
_SECRET = re.compile(
    r"(?i)\b(password|passwd|token|authorization|api[_-]?key|secret|cookie|bearer)(\"?\s*[:=]\s*\"?|\s+(?![(\[]))"
    r"([^\s\"',;}]+)"
)
_URL_PASSWORD = re.compile(r"(://[^/@\s:]+:)[^/@\s]+@")  # http://user:password@host
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def redact(text: str) -> str:
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def _redact_record(record: Any) -> None:
    record["message"] = redact(record["message"])
    extra = record["extra"]
    for key, value in list(extra.items()):
        if secret_name(key):
            extra[key] = "***"
        elif isinstance(value, str):
            extra[key] = redact(value)


class _RedactingStream:
    """A handler's stream that redacts each finished entry, traceback included (loguru
    formats an exception after the patcher has run)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> None:
        self._stream.write(redact(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:  # for colorize=None: colours on a terminal only
        return self._stream.isatty()


class _InterceptHandler(logging.Handler):
    """Routes stdlib logging (httpx, uvicorn, asyncio) through loguru and its redaction."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame: FrameType | None = logging.currentframe()
        depth = 2
        while frame and frame.f_code.co_filename == logging.__file__:
            frame, depth = frame.f_back, depth + 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def route_to_loguru(*names: str) -> None:
    """Let these stdlib loggers reach the root logger (and so loguru): a library that
    gave them handlers of their own (uvicorn's default log_config does) would bypass
    the redaction."""
    for name in names:
        stdlib = logging.getLogger(name)
        stdlib.handlers.clear()
        stdlib.propagate = True


class LogConfig:
    """Owns the handlers it adds, so tests' own loguru sinks (caplog) survive reconfiguration."""

    def __init__(self) -> None:
        self._handler_ids: list[int] = []
        self._default_removed = False

    def apply(self, level: str = "INFO", json_lines: bool = False) -> None:
        if not self._default_removed:
            with contextlib.suppress(ValueError):  # already removed by someone else
                logger.remove(0)
            self._default_removed = True
        while self._handler_ids:
            logger.remove(self._handler_ids.pop())
        logger.configure(patcher=_redact_record)
        if json_lines:
            handler = logger.add(_RedactingStream(sys.stdout), level=level, serialize=True, diagnose=False)
        else:
            handler = logger.add(
                _RedactingStream(sys.stderr),
                level=level,
                format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}",
                colorize=None,
                diagnose=False,
            )
        self._handler_ids.append(handler)
        logging.basicConfig(handlers=[_InterceptHandler()], level=0, force=True)
        route_to_loguru(*UVICORN_LOGGERS)
        for noisy in ("httpx", "httpcore", "asyncio", "uvicorn.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
