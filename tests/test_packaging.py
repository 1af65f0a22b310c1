"""Packaging: the distribution's own name, one version, --version, the licence in the wheel.

Building a wheel needs the build backend from the package index, so the built wheel is
checked by hand (see CHANGELOG/README); here the settings that make it are checked."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import smartload
from smartload.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_distribution_has_its_own_name_and_keeps_the_command() -> None:
    project = pyproject()["project"]
    assert project["name"] == "smartload-evcc"
    assert project["scripts"] == {"smartload": "smartload.__main__:main"}


def test_the_version_is_written_once() -> None:
    data = pyproject()
    assert "version" not in data["project"]
    assert data["project"]["dynamic"] == ["version"]
    assert data["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "smartload.__version__"}
    assert smartload.__version__ == "0.1.0"
    # The changelog has a section for it.
    assert f"## [{smartload.__version__}] - " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_version_option_prints_the_version() -> None:
    done = subprocess.run([sys.executable, "-m", "smartload", "--version"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"smartload {smartload.__version__}\n")
    assert "--version" in build_parser().format_help()


def test_the_licence_goes_into_the_wheel() -> None:
    data = pyproject()
    assert data["tool"]["setuptools"]["license-files"] == ["LICENSE"]
    assert data["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    # The data shipped with the simulator keep their licences, named beside them.
    assert "smartload/sim/data/ATTRIBUTION.md" in text
    assert "data/*" in data["tool"]["setuptools"]["package-data"]["smartload.sim"]
    assert (ROOT / "smartload" / "sim" / "data" / "ATTRIBUTION.md").is_file()
