"""The README's first screen tells the truth: its test command is the one CI runs (.ci/run),
its run command installs the same way without the test extra, and every file a README
command names is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)


def first_screen() -> tuple[str, str]:
    """The run and test commands: the two sh blocks before the first section."""
    top = README.split("\n## ")[0]
    run, test = (block.strip() for block in re.findall(r"```sh\n(.*?)```", top, re.S))
    return run, test


def test_the_test_command_is_what_ci_runs():
    _, test = first_screen()
    assert test == "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
    assert test in CI.splitlines()


def test_the_run_command_installs_the_same_way_without_the_test_extra():
    run, test = first_screen()
    assert run == test.replace("'.[test]'", ".").replace("-m pytest", "-m smartload")


def test_files_named_in_readme_commands_exist():
    named = {word.strip("'\"") for block in BLOCKS for word in block.split()
             if re.match(r"^['\"]?(deploy|tests|benchmarks|smartload|docs)/[\w./-]+$", word)}
    assert {"deploy/container.sh", "deploy/smartload.service"} <= named
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert not missing, missing


def test_readme_links_to_its_own_headings_resolve():
    anchors = {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", README, re.M)}
    links = set(re.findall(r"\]\(#([\w-]+)\)", README))
    assert {"home-assistant-add-on", "command-line"} <= links
    assert not links - anchors, sorted(links - anchors)
