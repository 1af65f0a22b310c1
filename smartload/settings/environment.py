"""SMARTLOAD_* environment variables as a settings mapping, laid over the file's.

SMARTLOAD_<SECTION>__<KEY>[__<KEY>...] sets one key (names are case-insensitive, keys
lowercased); a variable naming a section, a list or a mapping holds JSON
(SMARTLOAD_VEHICLES='{"zoe": {...}}', SMARTLOAD_WEB__TRUSTED_PROXIES='["10.0.0.2"]'). Other
values stay strings for pydantic to convert, so "52" is a number where a number is wanted.
Variables that name no section (SMARTLOAD_SETTINGS, SMARTLOAD_ADDON_OPTIONS) are left alone.

The rules are pydantic-settings' (env_prefix, env_nested_delimiter="__"), which this
replaces: importing pydantic-settings (its sources pull in asyncio and the cloud
providers' shims) cost CPU at every start for these few lines. With it gone and the
models' validators built lazily (types.StrictModel), `check-config` takes 0.40 s of CPU
instead of 0.44-0.49 s (benchmarks/startup.py's machine, the same hour). Where it
differs, it says more: a variable that is not JSON is named itself (not only its
section); the entries of a mapping (SMARTLOAD_VEHICLES__ZOE) are sections too; a section
set to null (SMARTLOAD_NOTIFY=null) is an error where it was ignored; an empty section
or list (SMARTLOAD_WEB__TRUSTED_PROXIES=) is "not valid JSON".
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

ENV_PREFIX = "SMARTLOAD_"
DELIMITER = "__"


class EnvJsonError(ValueError):
    """A variable meant to hold JSON does not; names the variable and its key path."""

    def __init__(self, variable: str, path: str) -> None:
        super().__init__(f"env {variable}: {path}: not valid JSON")


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types a union allows (Optional included), or the annotation alone."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return tuple(a for a in get_args(annotation) if a is not type(None))
    if origin is not None and getattr(origin, "__name__", "") == "Annotated":
        return _members(get_args(annotation)[0])
    return (annotation,)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_complex(annotation: Any) -> bool:
    if _is_model(annotation):
        return True
    origin = get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, (Mapping, list, tuple, set, frozenset))


def _child(annotation: Any, key: str) -> Any:
    """The type of `key` under a value of `annotation` (None: unknown, kept a string)."""
    for member in _members(annotation):
        if _is_model(member):
            for name, field in member.model_fields.items():
                if key in (name.lower(), (field.alias or "").lower()):
                    return field.annotation
        elif get_origin(member) in (dict, Mapping) and len(get_args(member)) == 2:
            return get_args(member)[1]
    return None


def _decode(annotation: Any, value: str, variable: str, path: list[str]) -> Any:
    """JSON for a section, list or mapping; a union that also allows a plain value keeps a
    value that is not JSON as it is (pydantic-settings' allow_json_failure)."""
    members = _members(annotation)
    if annotation is None or not any(_is_complex(m) for m in members):
        return value
    try:
        return json.loads(value)
    except ValueError:
        if all(_is_complex(m) for m in members):
            raise EnvJsonError(variable, ".".join(path)) from None
        return value


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """base with over laid on it, mappings merged key by key (over wins elsewhere)."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        merged[key] = merge(below, value) if isinstance(below, Mapping) and isinstance(value, Mapping) else value
    return merged


def env_data(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the SMARTLOAD_* variables in environ set, as a nested mapping. Raises
    EnvJsonError for a variable that must hold JSON and does not (the first, by name)."""
    found: dict[str, Any] = {}
    fields = {name.lower(): field.annotation for name, field in model.model_fields.items()}
    # Shorter names first: SMARTLOAD_VEHICLES's JSON, then SMARTLOAD_VEHICLES__ZOE__... in it.
    named = sorted((n for n in environ if n.upper().startswith(ENV_PREFIX)), key=lambda n: (n.count(DELIMITER), n))
    for variable in named:
        path = variable[len(ENV_PREFIX):].lower().split(DELIMITER)
        if path[0] not in fields or "" in path:
            continue
        annotation = fields[path[0]]
        for key in path[1:]:
            annotation = None if annotation is None else _child(annotation, key)
        value = _decode(annotation, environ[variable], variable, path)
        for key in reversed(path):
            value = {key: value}
        found = merge(found, value)
    return found
