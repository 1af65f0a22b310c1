"""The add-on's files as Home Assistant reads them: config.yaml and build.yaml pass the
community add-on linter's JSON schemas (tests/fixtures/addon, see SOURCES.md) and its other
checks, the options schema is one the Supervisor understands and is exactly what
smartload.addon.options maps, every option has a label, and the Dockerfile passes hadolint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, ValidationError, validators

from smartload.addon.options import _CAR, _TOP, LOG_LEVELS, PROVIDERS, settings_from_addon_options
from smartload.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon" / "smartload"
FIXTURES = ROOT / "tests" / "fixtures" / "addon"
# A leaf of an add-on options schema as the Supervisor parses it (its RE_SCHEMA_ELEMENT:
# supervisor/addons/options.py), optional when it ends in "?".
LEAF = re.compile(r"^(?:bool|email|url|port|str(?:\(\d*,\d*\))?|password(?:\(\d*,\d*\))?|int(?:\(\d*,\d*\))?"
                  r"|float(?:\([\d.]*,[\d.]*\))?|match\(.*\)|list\(.+\))\??$")


def load(name: str) -> Any:
    return yaml.safe_load((ADDON / name).read_text(encoding="utf-8"))


def linter(schema_file: str) -> Draft7Validator:
    """The linter's validator: Draft 7, and a key set to its default value is an error."""
    base = Draft7Validator.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        for name, sub in props.items():
            if "default" in sub and instance.get(name) == sub["default"]:
                yield ValidationError(f"'{name}' should be removed, it uses a default value")
        yield from base(validator, props, instance, schema)

    checker = validators.extend(Draft7Validator, {"properties": properties})
    return checker(json.loads((FIXTURES / schema_file).read_text(encoding="utf-8")))


def errors(schema_file: str, document: dict[str, Any]) -> list[str]:
    return sorted(e.message for e in linter(schema_file).iter_errors(document))


def test_config_and_build_pass_the_linters_schemas():
    assert errors("addon-config.schema.json", load("config.yaml")) == []
    assert errors("addon-build.schema.json", load("build.yaml")) == []


def test_the_schema_check_catches_what_the_linter_would():
    config = load("config.yaml")
    bad = {**config, "arch": ["amd64", "sparc"], "ingress_port": 8099, "startup": "whenever"}
    del bad["slug"]
    assert errors("addon-config.schema.json", bad) == [
        "'ingress_port' should be removed, it uses a default value",
        "'slug' is a required property",
        "'sparc' is not one of ['aarch64', 'amd64', 'armhf', 'armv7', 'i386']",
        "'whenever' is not one of ['application', 'initialize', 'once', 'services', 'system']",
    ]
    assert errors("addon-build.schema.json", {**load("build.yaml"), "squash": False}) == [
        "'squash' should be removed, it uses a default value"]


def test_the_linters_other_checks_and_what_the_add_on_promises():
    config, build = load("config.yaml"), load("build.yaml")
    assert set(config["arch"]) == set(build["build_from"]) == {"aarch64", "amd64"}
    assert not {"armhf", "armv7", "i386"} & set(config["arch"])  # deprecated since Home Assistant 2025.12
    assert config["ingress"] is True and "webui" not in config and config.get("ingress_port", 8099) == 8099
    assert not {"watchdog", "codenotary", "auto_uart", "full_access", "advanced"} & set(config)
    assert config["services"] == ["mqtt:want"]
    assert config["map"] == ["addon_config:rw"]  # /data is always mapped
    assert not {"homeassistant_api", "hassio_api", "host_network", "privileged"} & set(config)
    for base in build["build_from"].values():
        assert re.fullmatch(r"ghcr\.io/home-assistant/(aarch64|amd64)-base-python:3\.1[2-9]-alpine3\.\d+", base)


def project_version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    if "version" in project:
        return str(project["version"])
    import smartload  # the version kept in the package (pyproject: dynamic)

    return str(smartload.__version__)


def test_the_add_on_is_the_projects_version():
    assert load("config.yaml")["version"] == project_version()


def leaves(schema: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(schema, dict):
        return [leaf for key, sub in schema.items() for leaf in leaves(sub, f"{path}{key}.")]
    if isinstance(schema, list):
        return leaves(schema[0], path[:-1] + "[].")
    return [(path[:-1], schema)]


def test_the_options_schema_is_the_supervisors_and_the_mappings():
    schema = load("config.yaml")["schema"]
    bad = [(path, leaf) for path, leaf in leaves(schema) if not LEAF.match(leaf)]
    assert bad == []
    assert set(schema) == _TOP and set(schema["cars"][0]) == _CAR
    assert schema["cars"][0]["provider"] == f"list({'|'.join(PROVIDERS)})?"
    assert schema["log_level"] == f"list({'|'.join(LOG_LEVELS)})?"
    # Secrets are password fields, shown masked in the Configuration tab.
    secret = {path for path, leaf in leaves(schema) if leaf.startswith("password")}
    assert secret == {"evcc_password", "evcc_api_key", "web_token", "cars[].password", "cars[].pin"}
    # The car id as the Supervisor checks it is what the mapping accepts.
    assert schema["cars"][0]["name"] == "match(^[a-z0-9][a-z0-9_-]*$)"


def test_the_shipped_options_are_complete_and_map_to_valid_settings():
    config = load("config.yaml")
    options, schema = config["options"], config["schema"]
    required = {key for key, leaf in schema.items() if not (isinstance(leaf, str) and leaf.endswith("?"))}
    assert required == {"evcc_url", "cars"} and set(options) == {"evcc_url", "cars", "log_level"}
    settings = Settings.model_validate(settings_from_addon_options(options))
    assert (settings.evcc.url, settings.vehicles, settings.web.port, str(settings.data_dir)) == (
        "http://homeassistant.local:7070", {}, 8099, "/data")


def test_every_option_has_a_label_and_a_description():
    labels = load("translations/en.yaml")["configuration"]
    schema = load("config.yaml")["schema"]
    assert set(labels) == set(schema)
    assert set(labels["cars"]["fields"]) == set(schema["cars"][0])
    entries = [*labels.values(), *labels["cars"]["fields"].values()]
    assert all(isinstance(e["name"], str) and e["name"] and e.get("description") for e in entries)


def test_the_dockerfile_passes_hadolint_and_installs_the_add_ons_version():
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), str(ADDON / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "")
    text = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    assert 'pip install --no-cache-dir "smartload-evcc[kia]==${BUILD_VERSION}"' in text
    assert 'CMD ["/run.sh"]' in text and (ADDON / "run.sh").stat().st_mode & 0o111


def test_the_run_script_starts_smartload_on_the_options():
    script = (ADDON / "run.sh").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/with-contenv bashio\n")
    assert "export SMARTLOAD_ADDON_OPTIONS=/data/options.json\n" in script
    assert script.rstrip().endswith("exec smartload run")


def test_a_settings_file_in_the_config_folder_keeps_the_add_ons_data_and_dashboard(tmp_path, monkeypatch):
    # The variables the run script sets beside /config/settings.yaml, over a file that
    # says otherwise.
    script = (ADDON / "run.sh").read_text(encoding="utf-8")
    exports = dict(re.findall(r"^\s*export (SMARTLOAD_\w+)='?(.*?)'?$", script, re.MULTILINE))
    assert set(exports) == {"SMARTLOAD_ADDON_OPTIONS", "SMARTLOAD_SETTINGS", "SMARTLOAD_DATA_DIR",
                            "SMARTLOAD_WEB__HOST", "SMARTLOAD_WEB__PORT", "SMARTLOAD_WEB__TRUSTED_PROXIES",
                            "SMARTLOAD_WEB__PROXY_USER_HEADER"}
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "settings.yaml"
    path.write_text("data_dir: mine\nweb: {host: 127.0.0.1, port: 9000}\nvehicles:\n  zoe: {capacity_kwh: 52}\n")
    settings = load_settings(path)
    web = settings.web
    assert (str(settings.data_dir), web.host, web.port, web.trusted_proxies, web.proxy_user_header) == (
        "/data", "0.0.0.0", 8099, ["172.30.32.2"], "X-Remote-User-Id")
    assert settings.vehicles["zoe"].capacity_kwh == 52


def test_the_changelog_starts_with_the_add_ons_version():
    changelog = (ADDON / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.findall(r"^## (\S+)", changelog, re.MULTILINE)[0] == load("config.yaml")["version"]


def test_home_assistant_finds_the_repository_and_exactly_one_add_on():
    # The Supervisor reads repository.yaml at the repository's root and takes every
    # config.json/.yaml/.yml below it for an add-on, skipping hidden folders and rootfs
    # (supervisor/store/data.py).
    repository = yaml.safe_load((ROOT / "repository.yaml").read_text(encoding="utf-8"))
    assert set(repository) <= {"name", "url", "maintainer"} and repository["name"]
    found = [p.relative_to(ROOT).as_posix() for p in ROOT.glob("**/config.*")
             if p.suffix in (".json", ".yaml", ".yml")
             and not any(part.startswith(".") or part == "rootfs" for part in p.relative_to(ROOT).parts)]
    assert found == ["addon/smartload/config.yaml"]
    assert load("config.yaml")["slug"] == ADDON.name == "smartload"
