"""A clone tests itself with nothing beside it: no file of the project names a folder of one
machine, reaches out of the repository for fixtures or data, or skips a test for want of a file.

Only the benchmarks may read the shared data beside the repository, through their --data
argument (default "../shared/data", taken from the repository root)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = ("smartload", "tests", "benchmarks")  # every file: no machine path, nothing taken from beside the repo
DOCS = ("README.md", "settings.yaml", "pyproject.toml", "docs", ".ci")  # no machine path
SKIPPED_DIRS = {"__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache"}
GENERATED = (ROOT / "benchmarks" / "out",)  # the benchmarks' own reports, not part of the project
THIS = Path(__file__).resolve()  # holds the patterns and their examples

# A home, work or scratch folder of one machine: a folder named work, root, home, Users, tmp,
# mnt, media or srv right under the filesystem root. Not when the slash follows a word, a dot,
# a colon, a dash, a tilde or another slash: URL paths (a host's /api/state), $HOME/x and ~/x
# stay allowed. The examples below are built with rooted(), so this file names no such path.
MACHINE_PATH = re.compile(r"(?<![\w.:~/$-])/(?:work|root|home|Users|tmp|mnt|media|srv)/")
# Reaching beside the repository: the relative "../shared", a path joined with "shared", or a
# repository root's parent.
SHARED_RELATIVE = re.compile(r"\.\./shared\b")
SHARED_JOINED = re.compile(r"""/\s*["']shared["']|["']shared["']\s*/""")
ROOT_PARENT = re.compile(r"\b(?:ROOT|REPO|REPOSITORY)\.parent\b")
# Path(__file__)[.resolve()] then .parent steps and/or .parents[N]: how many folders up.
FILE_PARENTS = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?((?:\.parent\b|\.parents\[\d+\])+)")
SKIP = re.compile(r"\bpytest\.skip\(|\.skipif\(|\bimportorskip\(|\bmark\.skip\b")


def files(folders: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """Every text file under the given files and folders, with its text."""
    for name in folders:
        top = ROOT / name
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            if (not path.is_file() or SKIPPED_DIRS.intersection(path.parts)
                    or path == THIS or any(path.is_relative_to(folder) for folder in GENERATED)):
                continue
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:  # binary: compressed recordings, images
                continue


def where(path: Path, text: str, match: re.Match[str]) -> str:
    line = text.count("\n", 0, match.start()) + 1
    return f"{path.relative_to(ROOT)}:{line}: {text.splitlines()[line - 1].strip()[:120]}"


def levels_up(chain: str) -> int:
    """How many folders above the file a chain like '.parents[1].parent' ends."""
    return sum(int(n) + 1 if n else 1 for n in re.findall(r"\.parents?(?:\[(\d+)\])?", chain))


def test_no_file_names_a_folder_of_one_machine():
    found = [where(path, text, m) for path, text in files(CODE + DOCS) for m in MACHINE_PATH.finditer(text)]
    assert found == []


def test_only_the_benchmarks_data_default_reaches_beside_the_repository():
    found = []
    for path, text in files(CODE):
        benchmark = path.relative_to(ROOT).parts[0] == "benchmarks"
        for m in SHARED_RELATIVE.finditer(text):
            if not (benchmark and text.startswith("../shared/data", m.start())):
                found.append(where(path, text, m))
        found += [where(path, text, m) for m in SHARED_JOINED.finditer(text)]
        found += [where(path, text, m) for m in ROOT_PARENT.finditer(text)]
        depth = len(path.relative_to(ROOT).parts)  # tests/x.py: 2 levels up is the repository root
        found += [where(path, text, m) for m in FILE_PARENTS.finditer(text) if levels_up(m.group(1)) > depth]
    assert found == []


def test_the_benchmarks_take_their_data_from_the_repository_root_not_the_working_directory():
    for name in ("cost.py", "planner_solve_time.py"):
        text = (ROOT / "benchmarks" / name).read_text(encoding="utf-8")
        assert 'DATA = "../shared/data"' in text, name
        assert "return (ROOT / value).resolve()" in text, name
        assert 'type=data_dir, default=DATA' in text, name


def test_no_test_skips_but_the_kia_provider_where_its_library_cannot_install():
    found = [where(path, text, m) for path, text in files(("tests",)) if path.suffix == ".py"
             for m in SKIP.finditer(text)]
    assert [line for line in found if "hyundai_kia" not in line] == []
    assert len(found) == 3  # the Kia tests without the library, two preflight tests with it


def rooted(*parts: str) -> str:
    """An absolute path from its parts, e.g. rooted("srv", "x") is the folder x in /srv."""
    return "/" + "/".join(parts)


@pytest.mark.parametrize("text", [
    f'FIXTURE = Path("{rooted("work", "shared", "fixtures", "evcc", "x.json")}")',
    f"for candidate in {rooted('root', '.pyenv', 'versions', '3.12*', 'bin', 'python3')}; do",
    f"data_dir: {rooted('home', 'me', 'smartload')}",
    f"see {rooted('Users', 'me', 'Downloads', 'state.json')}",
    f"'{rooted('tmp', 'smartload.db')}'",
])
def test_a_machine_path_is_found(text):
    assert MACHINE_PATH.search(text)


@pytest.mark.parametrize("text", [
    'client.get("/api/state")',
    "url: http://homeassistant.local:8123/api/states/sensor.id3_battery_level",
    "https://example.org" + rooted("home", "page"),
    '"${PYENV_ROOT:-$HOME/.pyenv}"/versions',
    "~" + rooted("work", "notes"),
    'tmp_path / "home" / "x"',
    "home/cars/zoe/soc",
])
def test_urls_topics_and_relative_paths_are_not_machine_paths(text):
    assert not MACHINE_PATH.search(text)


@pytest.mark.parametrize(("chain", "levels"), [(".parent", 1), (".parents[0]", 1), (".parents[1]", 2),
                                               (".parents[1].parent", 3), (".parent.parent", 2)])
def test_levels_up(chain, levels):
    assert levels_up(chain) == levels


def test_reaching_beside_the_repository_is_found():
    assert SHARED_JOINED.search('ROOT.parent / "shared" / "fixtures"')
    assert ROOT_PARENT.search('ROOT.parent / "shared" / "fixtures"')
    assert SHARED_RELATIVE.search("needs ../shared/fixtures beside the repo")
    assert not SHARED_JOINED.search('"shared wallbox"')
