"""evcc's solarAdjusted switch, turned on at a real (simulated) evcc, turns on smartload's
PV correction (planning.solar_adjusted: evcc, the default) through the state it polls;
what was produced before the switch counts at once."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from smartload.plugins import FirstPoll
from smartload.service import run_service
from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from smartload.system import System
from tests.integration.test_service_against_sim import SPEED, settings
from tests.sim.helpers import local
from tests.waiting import until


async def test_evcc_s_switch_turns_the_correction_on_and_off(tmp_path):
    config = settings(tmp_path)
    runtimes: list[System] = []

    async def keep(runtime: System, _stack: AsyncExitStack, _first_poll: FirstPoll) -> None:
        runtimes.append(runtime)

    # A July morning: the panels produce from the first poll.
    sim_settings = SimSettings(speed=SPEED, start=local("2024-07-15T09:00:00"), seed=1)
    async with SimServer(sim_settings) as sim:
        stop = asyncio.Event()
        service = asyncio.create_task(run_service(config, sim=sim, stop=stop, on_runtime=keep))
        try:
            await until(lambda: bool(runtimes), "the service to start")
            solar = runtimes[0].planning.sequencer.solar
            assert solar is not None
            # A quarter-hour seen whole (readings and its forecast) is today's first figure.
            await until(lambda: solar.scale(sim.now()).forecast_kwh > 0, "a quarter-hour of PV", timeout_s=90)
            assert not solar.enabled  # the simulator's evcc ships the switch off
            sim.site.solar_adjusted = True  # as a person flips it in evcc's UI
            await until(lambda: solar.enabled, "smartload to see evcc's switch")
            scale = solar.scale(sim.now())
            assert scale.produced_kwh > 0 and scale.day > 0.2
            sim.site.solar_adjusted = False
            await until(lambda: not solar.enabled, "the switch off again")
        finally:
            stop.set()
            assert await asyncio.wait_for(service, 30) == 0
