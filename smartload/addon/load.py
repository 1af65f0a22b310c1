"""Reading the add-on's options file into Settings: JSON, mapped by options.py, validated
like any settings with the environment over it; every problem names the option."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smartload.addon.options import AddonOptionsError, option_path, settings_from_addon_options
from smartload.settings import Settings, SettingsError
from smartload.settings.load import settings_from_data


def load_addon_settings(path: Path, timezone: str | None = None) -> Settings:
    """Settings from the add-on's options.json; `timezone` is Home Assistant's (TZ)."""
    label = str(path)
    try:
        options: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError([f"{label}: file not found"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError([f"{label}: not readable as JSON ({exc})"]) from exc
    if not isinstance(options, dict):
        raise SettingsError([f"{label}: (root): must be a mapping of options"])
    try:
        raw = settings_from_addon_options(options, timezone=timezone)
    except AddonOptionsError as exc:
        raise SettingsError([f"{label}: {problem}" for problem in exc.problems]) from exc
    return settings_from_data(raw, label, lambda loc: option_path(options, loc))
