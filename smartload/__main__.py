"""Command line: python -m smartload [run|sim|record|replay|inspect|check-config] ..."""

# Each subcommand imports what it needs when it runs, never at the top: building the parser
# (and so --help) imports argparse alone, check-config the settings without the planner or
# the simulator's server (tests/test_startup_imports.py; benchmarks/startup.py times it).

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smartload.settings import Settings
    from smartload.settings.discovery import SettingsSource


def _read(args: argparse.Namespace, *, required: bool) -> tuple[SettingsSource | None, Settings]:
    """The settings and where they were found (settings/discovery.py). `run` and
    `check-config` need a file; the other commands take the defaults without one."""
    from smartload.settings.discovery import find_settings, nothing_found
    from smartload.settings.load import SettingsError, load_settings, secrets_from_files

    secrets_from_files(os.environ)
    source = find_settings(args.settings)
    if source is None and required:
        raise SettingsError(nothing_found())
    if source is not None and source.addon:
        from smartload.addon.load import load_addon_settings

        return source, load_addon_settings(source.path, os.environ.get("TZ"))
    return source, load_settings(source.path if source else None)


def _where(source: SettingsSource | None, settings: Settings) -> str:
    """Which settings were read, how they were found, and where the data directory is."""
    read = f"{source.path.absolute()} ({source.how})" if source else "none found (defaults and SMARTLOAD_* variables)"
    return f"settings: {read}; data directory: {settings.data_dir.absolute()}"


def _start_logging(args: argparse.Namespace, source: SettingsSource | None, settings: Settings) -> None:
    from loguru import logger

    from smartload.logsetup import LogConfig

    level = args.log_level or settings.logging.level
    LogConfig().apply(level=level, json_lines=args.log_json or settings.logging.json_lines)
    logger.info(_where(source, settings))


def _load(args: argparse.Namespace) -> Settings:
    source, settings = _read(args, required=False)
    _start_logging(args, source, settings)
    return settings


def _refuse(source: SettingsSource | None, problems: list[str]) -> None:
    from smartload.settings.load import SettingsError, label_problem

    if problems:
        raise SettingsError([label_problem(source.label if source else "environment", p) for p in problems])


def _prices_problems(path: Path, settings: Settings) -> list[str]:
    from smartload.sim.prices import DayAheadPrices

    if not path.is_file():
        return [f"sim.prices_csv: {path}: file not found"]
    try:
        DayAheadPrices.from_csv(path, settings.site.tz)
    except Exception as exc:  # whatever stops the reader here would stop the simulator at start
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [f"sim.prices_csv: {path}: not a price table ({why})"]
    return []


NO_VEHICLES = ("vehicles: none configured, so there is no car to plan; add each car under vehicles: in the "
               "settings (its capacity_kwh, and evcc_name if evcc calls it differently; README \"Vehicle SoC "
               "providers\"), or under Cars in the Home Assistant add-on's configuration")


def preflight(settings: Settings) -> tuple[list[str], list[str]]:
    """What `run` would reject (problems) or change (warnings) in settings the models
    accept: the one check that both `run` and `check-config` make. Lines: "<key>: why"."""
    from smartload.store.datadir import data_dir_problem
    from smartload.vehicles.registry import check_providers

    providers = check_providers(settings)
    problems = list(providers.problems)
    if settings.evcc.url == "embedded":
        from smartload.sim.scenario import ScenarioError, load_scenario

        try:
            load_scenario(settings.sim.scenario)
        except ScenarioError as exc:
            problems += [f"sim.scenario: {problem}" for problem in exc.problems]
        if settings.sim.prices_csv is not None:
            problems += _prices_problems(settings.sim.prices_csv, settings)
    data_dir = data_dir_problem(settings.data_dir)
    if data_dir is not None:
        problems.append(f"data_dir: {data_dir}")
    warnings = list(providers.warnings)
    if not settings.vehicles:
        # With no car of its own smartload plans none, yet would still steer the wallboxes
        # of the cars evcc shows; against the simulator that is a harmless demo.
        (problems if settings.evcc.url != "embedded" else warnings).append(NO_VEHICLES)
    return problems, warnings


def _with_supervisor_mqtt(settings: Settings) -> Settings:
    """Inside the Home Assistant add-on, its MQTT broker when no other is configured."""
    if settings.mqtt.enabled or not os.environ.get("SUPERVISOR_TOKEN"):
        return settings
    from smartload.addon.supervisor import with_supervisor_mqtt

    return with_supervisor_mqtt(settings, os.environ)


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from smartload.plugins import start_plugins
    from smartload.service import run_service
    from smartload.store.datadir import InstanceLock

    source, settings = _read(args, required=True)
    problems, warnings = preflight(settings)  # the providers' warnings are logged where they are built
    _refuse(source, problems)
    with InstanceLock(settings.data_dir):  # a refusal is its one line: nothing logged before
        _start_logging(args, source, settings)
        if NO_VEHICLES in warnings:
            from loguru import logger

            logger.warning(NO_VEHICLES)
        settings = _with_supervisor_mqtt(settings)
        return asyncio.run(run_service(settings, duration=args.duration, on_runtime=start_plugins))


def cmd_record(args: argparse.Namespace) -> int:
    import asyncio

    from smartload.service import run_service

    settings = _load(args)
    return asyncio.run(run_service(settings, record_to=Path(args.out), duration=args.duration, pipeline=False))


def cmd_replay(args: argparse.Namespace) -> int:
    from loguru import logger

    from smartload.recording.replay import RecordingError, open_recording, replay_with_settings

    settings = _load(args)
    try:
        recording = open_recording(Path(args.recording))
    except RecordingError as exc:
        print(exc, file=sys.stderr)
        return 2
    report = replay_with_settings(recording, settings, explicit_settings=args.settings is not None)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.report:
        Path(args.report).write_text(text + "\n", encoding="utf-8")
        logger.info(
            "replayed {} polls: {} edges, {} refreshes, {} ticks, {} errors; report in {}",
            report["polls"], len(report["edges"]), len(report["refreshes"]), len(report["ticks"]),
            len(report["errors"]), args.report,
        )
    else:
        print(text)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from smartload.evcc.view import inspect_file

    try:
        view = inspect_file(Path(args.state))
    except (ValueError, OSError) as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return 2
    print(json.dumps(view, indent=2, ensure_ascii=False))
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    source, settings = _read(args, required=True)
    assert source is not None  # required: SettingsError without one
    problems, warnings = preflight(settings)
    _refuse(source, problems)
    from smartload.settings.load import label_problem

    for warning in warnings:
        print(label_problem(source.label, warning, kind="warning: "), file=sys.stderr)
    print(_where(source, settings))
    print(f"{source.label}: OK (evcc {settings.evcc.url}, {len(settings.vehicles)} vehicle(s))")
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    import asyncio

    from smartload.sim.cli import sim_main

    settings = _load(args)
    return asyncio.run(sim_main(args, settings.sim))


def cmd_simulate(args: argparse.Namespace) -> int:
    from smartload.whatif.cli import simulate_main

    settings = _load(args)
    return simulate_main(args, settings)


def _duration(text: str) -> object:
    from smartload.settings.types import parse_duration

    value = parse_duration(text)
    if isinstance(value, str):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 15m, 2h)")
    return value


SETTINGS_HELP = ("settings file (default: $SMARTLOAD_SETTINGS, ./settings.yaml, ~/.config/smartload/settings.yaml, "
                 "the Home Assistant add-on's /data/options.json: the first that exists)")


def build_parser() -> argparse.ArgumentParser:
    from smartload import __version__

    parser = argparse.ArgumentParser(prog="python -m smartload", description=__doc__)
    parser.add_argument("--version", action="version", version=f"smartload {__version__}")
    parser.add_argument("--settings", metavar="FILE", help=SETTINGS_HELP)
    parser.add_argument("--log-json", action="store_true", help="log JSON lines to stdout")
    parser.add_argument("--log-level", choices=["TRACE", "DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run the service (default; embedded simulator with the shipped settings)")
    run.add_argument("--duration", type=_duration, help="stop after this long (e.g. 10m)")
    run.set_defaults(func=cmd_run)

    sim = sub.add_parser("sim", help="run the embedded evcc simulator alone on 127.0.0.1")
    from smartload.sim.cli import add_sim_arguments

    add_sim_arguments(sim)
    sim.set_defaults(func=cmd_sim)

    record = sub.add_parser("record", help="record evcc polls as a JSON-lines recording")
    record.add_argument("--out", required=True, metavar="F.jsonl", help="output file (.gz compresses)")
    record.add_argument("--duration", type=_duration, help="stop after this long (e.g. 6h)")
    record.set_defaults(func=cmd_record)

    replay = sub.add_parser("replay", help="replay a recording in virtual time through the real pipeline")
    replay.add_argument("recording", metavar="F.jsonl")
    replay.add_argument("--report", metavar="R.json", help="write the report here (default: stdout)")
    replay.set_defaults(func=cmd_replay)

    inspect = sub.add_parser("inspect", help="print the normalised view of one /api/state body")
    inspect.add_argument("state", metavar="STATE.json")
    inspect.set_defaults(func=cmd_inspect)

    simulate = sub.add_parser("simulate", help="what-if cost simulation of a strategy on price and session data")
    from smartload.whatif.cli import add_simulate_arguments

    add_simulate_arguments(simulate)
    simulate.set_defaults(func=cmd_simulate)

    check = sub.add_parser("check-config", help="validate settings; exit 2 listing every problem")
    check.set_defaults(func=cmd_check_config)
    # --settings after the command too; SUPPRESS keeps one given before it.
    for command in sub.choices.values():
        command.add_argument("--settings", metavar="FILE", default=argparse.SUPPRESS, help=SETTINGS_HELP)
    return parser


def _without_httpx_cli() -> None:
    """httpx imports its own command line (click, pygments, rich) at import when those are
    installed, 60-150 ms of a start (issue 19) for a client smartload never runs. A None
    entry in sys.modules makes that import fail, which httpx takes as "no CLI installed"."""
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    _without_httpx_cli()
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = getattr(args, "func", cmd_run)
    if not hasattr(args, "duration"):
        args.duration = None
    try:
        code = func(args)
        sys.stdout.flush()  # a reader gone (`inspect ... | head`) shows here, not in the exit's flush
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        lines = _refusal(exc)
        if lines is None:
            raise
        for line in lines:
            print(line, file=sys.stderr)
        return 2


def _stdout_closed() -> int:
    """stdout's reader has gone: what was left to print is dropped. stdout is pointed at
    devnull, so the interpreter's last flush at exit cannot fail again (and print a
    traceback), and the exit code is a shell's for a process ended by SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13


def _refusal(exc: Exception) -> list[str] | None:
    """The lines a command refused with (exit 2): settings problems, a data directory
    locked or too new; None for any other exception. Imported here, not at the top, so
    that the commands which never meet them do not import the settings and the store."""
    from smartload.settings.load import SettingsError
    from smartload.store.database import DatabaseTooNew
    from smartload.store.datadir import DataDirLocked

    if isinstance(exc, SettingsError):
        return list(exc.problems)
    if isinstance(exc, (DataDirLocked, DatabaseTooNew)):
        return [str(exc)]
    return None


if __name__ == "__main__":
    sys.exit(main())
