"""Loading the settings: `load_settings` reads settings.yaml (if given) and the environment
into Settings, or raises SettingsError with one readable line per problem, each with its
key path (what `python -m smartload check-config` prints). No line shows a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic_settings
import yaml
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from smartload.settings.root import Settings
from smartload.settings.types import secret_path


class SettingsError(Exception):
    """Settings could not be loaded; `problems` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_USER_INFO = re.compile(r"[^/@\s:'\"]+:[^/@\s'\"]+@")


def describe(error: Mapping[str, Any]) -> str:
    """One pydantic error as "key.path: message (got value)"; the value only when it
    cannot be a secret."""
    loc = tuple(error["loc"])
    path = ".".join(str(part) for part in loc) or "(root)"
    got = error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    # An unknown key may be a misspelt password: neither it nor a secret is ever shown.
    if isinstance(got, dict | list) or got is None or error["type"] == "extra_forbidden" \
            or secret_path(Settings, loc):
        return f"{path}: {message}"
    shown = _USER_INFO.sub("***@", repr(got)[:200])
    return f"{path}: {message} (got {shown if len(shown) <= 80 else shown[:77] + '...'})"


def load_settings(path: Path | None) -> Settings:
    """Load settings from YAML (if given) and the environment, or raise SettingsError."""
    label = str(path) if path else "environment"
    if path is not None:
        if not path.exists():
            raise SettingsError([f"{label}: file not found"])
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise SettingsError([f"{label}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise SettingsError([f"{label}: (root): must be a mapping of settings"])

    class FileSettings(Settings):
        model_config = SettingsConfigDict(yaml_file=path)

    try:
        settings = FileSettings() if path is not None else Settings()
    except ValidationError as exc:
        raise SettingsError([f"{label}: {describe(e)}" for e in exc.errors(include_url=False)]) from exc
    except pydantic_settings.SettingsError as exc:
        # A SMARTLOAD_* variable holding a section that is not JSON; the message names the
        # field and never the value.
        field = re.search(r'field "([^"]+)"', str(exc))
        name = field.group(1) if field else "(root)"
        raise SettingsError([f"environment: {name}: SMARTLOAD_{name.upper()} is not valid JSON"]) from exc
    return settings
