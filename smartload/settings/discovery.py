"""Where the settings are read from, the first that exists of: `--settings FILE`, the file
named by SMARTLOAD_SETTINGS, ./settings.yaml, the user's config directory
($XDG_CONFIG_HOME/smartload/settings.yaml, else ~/.config/smartload/settings.yaml), and the
Home Assistant add-on's options (/data/options.json, or the file SMARTLOAD_ADDON_OPTIONS
names). A file named on purpose (the first two) is used even if missing, so that a typo in
its name is an error rather than a silent fall-back to another file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SETTINGS_ENV = "SMARTLOAD_SETTINGS"
ADDON_OPTIONS_ENV = "SMARTLOAD_ADDON_OPTIONS"
ADDON_OPTIONS = Path("/data/options.json")
LOCAL = Path("settings.yaml")


@dataclass(frozen=True)
class SettingsSource:
    path: Path
    how: str  # how it was found, for the first log line and check-config
    addon: bool = False  # the add-on's options (JSON, mapped), not a settings.yaml

    @property
    def label(self) -> str:
        """How errors in it are prefixed: the path as it was given or found."""
        return str(self.path)


def user_settings_file(environ: Mapping[str, str], home: Path) -> Path:
    config = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return Path(config) / "smartload" / "settings.yaml"


def addon_options_file(environ: Mapping[str, str]) -> Path:
    return Path(environ.get(ADDON_OPTIONS_ENV) or ADDON_OPTIONS)


def find_settings(
    explicit: str | None, environ: Mapping[str, str] | None = None, home: Path | None = None
) -> SettingsSource | None:
    """The settings to read (relative paths from the working directory), None if none
    of the places holds a file."""
    environ = os.environ if environ is None else environ
    if explicit is not None:
        return SettingsSource(Path(explicit), "given with --settings")
    if named := environ.get(SETTINGS_ENV):
        return SettingsSource(Path(named), f"named by {SETTINGS_ENV}")
    if LOCAL.is_file():
        return SettingsSource(LOCAL, "found in the working directory")
    user = user_settings_file(environ, Path.home() if home is None else home)
    if user.is_file():
        return SettingsSource(user, "found in the user's config directory")
    options = addon_options_file(environ)
    if options.is_file():
        return SettingsSource(options, "the Home Assistant add-on's options", addon=True)
    return None


def nothing_found(environ: Mapping[str, str] | None = None, home: Path | None = None) -> list[str]:
    """What `run` says when it finds no settings: where it looked and what to do."""
    environ = os.environ if environ is None else environ
    user = user_settings_file(environ, Path.home() if home is None else home)
    return [
        "no settings file found; looked for --settings FILE, $SMARTLOAD_SETTINGS, ./settings.yaml, "
        f"{user} and {addon_options_file(environ)}",
        "copy settings.yaml from smartload's source (set evcc.url and your cars under vehicles:) to "
        f"{user} or the working directory, or pass --settings FILE; "
        "then `smartload check-config` checks it",
    ]
