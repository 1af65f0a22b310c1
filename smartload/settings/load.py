"""Loading the settings: `load_settings` reads settings.yaml (if given) and the environment
into Settings, `settings_from_data` a mapping made elsewhere (the add-on's options) and the
environment; both raise SettingsError with one readable line per problem, each with its key
path (what `python -m smartload check-config` prints), labelled with where the value came
from: the file, or the SMARTLOAD_* variable that overrides it. No line shows a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from smartload.settings.environment import ENV_PREFIX, EnvJsonError, env_data, merge
from smartload.settings.root import Settings
from smartload.settings.types import SAFE_LOADER, secret_path


class SettingsError(Exception):
    """Settings could not be loaded; `problems` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_USER_INFO = re.compile(r"[^/@\s:'\"]+:[^/@\s'\"]+@")


def describe(error: Mapping[str, Any], name: str | None = None) -> str:
    """One pydantic error as "key.path: message (got value)" (`name` in place of the key
    path: the add-on option behind it); the value only when it cannot be a secret."""
    loc = tuple(error["loc"])
    path = name or ".".join(str(part) for part in loc) or "(root)"
    got = error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    # An unknown key may be a misspelt password: neither it nor a secret is ever shown.
    if isinstance(got, dict | list) or got is None or error["type"] == "extra_forbidden" \
            or secret_path(Settings, loc):
        return f"{path}: {message}"
    shown = _USER_INFO.sub("***@", repr(got)[:200])
    return f"{path}: {message} (got {shown if len(shown) <= 80 else shown[:77] + '...'})"


# The tags of the settings' tagged unions, which pydantic puts in an error's key path
# (vehicles.zoe.provider.http_json.url) and no variable name holds.
_UNION_TAGS = frozenset({"evcc", "fake", "renault", "kia", "hyundai", "http_json", "mqtt", "manual"})


def _covers(variable: list[str], loc: list[str]) -> bool:
    """Whether a variable's key path (SMARTLOAD_A__B: [a, b]) leads to the key path loc."""
    at = 0
    for part in loc:
        if at == len(variable):
            return True
        if part == variable[at]:
            at += 1
        elif part not in _UNION_TAGS:
            return False
    return at == len(variable)


def env_origin(
    loc: tuple[str | int, ...], file_data: Any, environ: Mapping[str, str] | None = None, *, missing: bool = False,
) -> str | None:
    """The SMARTLOAD_* variable a value at `loc` came from (the environment overrides the
    file), or None when it came from the file. A `missing` key counts as the variable's
    when what should hold it is not in the file but a variable sets some of it."""
    environ = os.environ if environ is None else environ
    names = sorted(n for n in environ if n.upper().startswith(ENV_PREFIX))
    paths = {n: n[len(ENV_PREFIX):].lower().split("__") for n in names}
    parts = [str(p).lower() for p in loc]
    covering = [n for n in names if _covers(paths[n], parts)]
    if covering:
        return max(covering, key=lambda n: len(paths[n]))
    parent, node = parts[:-1], file_data
    for part in loc[:-1]:
        node = node.get(str(part)) if isinstance(node, Mapping) else None
    if missing and node is None and parent:
        under = [n for n in names if _covers(parent, paths[n])]
        return under[0] if under else None
    return None


class _Labels:
    """Labels a settings problem with where its value came from."""

    def __init__(self, label: str, file_data: Any, option: Callable[[tuple[str | int, ...]], str | None]) -> None:
        self._label, self._data, self._option = label, file_data, option

    def line(self, loc: tuple[str | int, ...], text: str, kind: str = "", missing: bool = False) -> str:
        variable = env_origin(loc, self._data, missing=missing)
        return f"env {variable}: {kind}{text}" if variable else f"{self._label}: {kind}{text}"

    def error(self, error: Mapping[str, Any]) -> str:
        loc, missing = tuple(error["loc"]), error["type"] == "missing"
        from_env = env_origin(loc, self._data, missing=missing) is not None
        return self.line(loc, describe(error, None if from_env else self._option(loc)), missing=missing)


def label_problem(label: str, problem: str, file_data: Any = None, kind: str = "") -> str:
    """A "key.path: why" line about loaded settings, labelled with the file or the
    variable its value came from (`kind`, e.g. "warning: ", after the label)."""
    key = problem.split(": ", 1)[0]
    return _Labels(label, file_data, lambda _: None).line(tuple(key.split(".")), problem, kind)


def _validate(data: Mapping[str, Any], labels: _Labels) -> Settings:
    """The file's mapping with the SMARTLOAD_* variables laid over it, validated."""
    try:
        overrides = env_data(Settings, os.environ)
    except EnvJsonError as exc:
        # The message names the variable and its key path, never the value.
        raise SettingsError([str(exc)]) from exc
    try:
        return Settings.model_validate(merge(data, overrides))
    except ValidationError as exc:
        raise SettingsError([labels.error(e) for e in exc.errors(include_url=False)]) from exc


def secrets_from_files(environ: MutableMapping[str, str]) -> None:
    """SMARTLOAD_X_FILE=path sets SMARTLOAD_X to the file's first line (a Docker or compose
    secret), as the container's entrypoint does, so `docker exec ... smartload check-config`
    reads the same settings as the service. Raises SettingsError naming the variable."""
    problems = []
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX) and n.endswith("_FILE")):
        target = name.removesuffix("_FILE")
        try:
            with open(environ[name], encoding="utf-8") as file:
                value = file.readline().rstrip("\r\n")
        except OSError as exc:
            problems.append(f"env {name}: {environ[name]} is not readable ({exc.strerror or exc})")
            continue
        if not value:
            problems.append(f"env {name}: {environ[name]} is empty")
            continue
        environ[target] = value
        del environ[name]
    if problems:
        raise SettingsError(problems)


def load_settings(path: Path | None) -> Settings:
    """Load settings from YAML (if given) and the environment, or raise SettingsError."""
    label = str(path) if path else "environment"
    loaded: Any = None
    if path is not None:
        if not path.exists():
            raise SettingsError([f"{label}: file not found"])
        try:
            loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise SettingsError([f"{label}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise SettingsError([f"{label}: (root): must be a mapping of settings"])
    if path is None:
        return _validate({}, _Labels(label, {}, lambda _: None))
    # The mapping read above, not the file again through pydantic-settings' YAML source.
    return settings_from_data(loaded or {}, label)


def settings_from_data(
    data: Mapping[str, Any], label: str, option: Callable[[tuple[str | int, ...]], str | None] = lambda _: None,
) -> Settings:
    """Settings from a raw mapping (what a settings.yaml would hold) and the environment,
    which overrides it; `option` names the source's own key behind a settings key path
    in errors. Raises SettingsError."""
    return _validate(data, _Labels(label, data, option))
