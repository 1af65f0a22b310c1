"""`python -m smartload sim`: the simulator alone, for pointing any evcc client at it.

Imports argparse alone at the top: `python -m smartload --help` builds this parser too,
and the settings, the scenario and the server come only with the command that runs."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smartload.settings import Settings
    from smartload.settings.sim import SimSettings


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (0: a free port; default from settings)")
    parser.add_argument("--speed", type=float, help="simulated seconds per second (60: a minute per second)")
    parser.add_argument("--scenario", help="household, two_wallboxes, business, real_site, or a scenario YAML file")
    parser.add_argument("--start", help="simulated start time, ISO 8601 (default: now)")
    parser.add_argument("--seed", type=int, help="random seed for clouds, load noise and trip jitter")
    parser.add_argument("--layout", help="evcc version whose API layout to serve, e.g. 0.315.0 or 0.207.5")
    parser.add_argument("--prices-csv", help="hourly day-ahead prices (timestamp_utc,price_eur_per_mwh)")


def sim_settings_from(args: argparse.Namespace, settings: SimSettings | Settings) -> SimSettings:
    """The settings' sim section with the command-line options laid over it."""
    from smartload.settings import Settings
    from smartload.settings.sim import SimSettings

    base = settings.sim if isinstance(settings, Settings) else settings
    values: dict[str, Any] = base.model_dump()
    for key in ("port", "speed", "scenario", "seed", "layout", "prices_csv"):
        value = getattr(args, key, None)
        if value is not None:
            values[key] = value
    if getattr(args, "start", None):
        values["start"] = datetime.fromisoformat(args.start)
    return SimSettings.model_validate(values)


async def sim_main(args: argparse.Namespace, settings: SimSettings | Settings) -> int:
    """Run until interrupted; 2 when the settings or the scenario are invalid."""
    from loguru import logger
    from pydantic import ValidationError

    from smartload.sim.scenario import ScenarioError
    from smartload.sim.server import run_sim

    try:
        sim = sim_settings_from(args, settings)
        await run_sim(sim)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = ".".join(str(p) for p in error["loc"])
            print(f"sim.{path}: {error['msg'].removeprefix('Value error, ')}")
        return 2
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem)
        return 2
    except ValueError as exc:
        print(f"sim: {exc}")
        return 2
    except OSError as exc:
        logger.error("simulator could not listen: {}", exc)
        return 1
    return 0
