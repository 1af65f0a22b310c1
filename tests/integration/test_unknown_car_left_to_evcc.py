"""A car smartload's settings do not know, plugged in at a real (simulated) evcc, is left
to evcc: smartload writes none of that wallbox's settings (before the fix it wrote `mode
off`, and a neighbour's or a visitor's car evcc knows stopped charging).

The simulator's household has zoe and ioniq; smartload is told only of ioniq, and zoe is
plugged in at the garage's wallbox before smartload starts.
"""

from __future__ import annotations

import asyncio

from smartload.service import run_service
from smartload.settings import Settings
from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from tests.integration.test_service_against_sim import SPEED, settings
from tests.sim.helpers import local
from tests.waiting import until


async def test_a_car_the_settings_do_not_know_keeps_the_wallbox_settings_evcc_gave_it(tmp_path):
    known = settings(tmp_path).model_dump(mode="json")
    known["vehicles"].pop("zoe")
    for vehicle in known["vehicles"].values():  # model_dump masks secrets; there are none here
        vehicle["provider"].pop("password", None)
    config = Settings.model_validate(known)
    sim_settings = SimSettings(speed=SPEED, start=local("2024-07-15T06:00:00"), seed=1)
    async with SimServer(sim_settings) as sim:
        sim.site.plug_in("zoe", 1)
        garage = sim.site.loadpoint(1)
        before = (garage.mode, garage.limit_soc, garage.max_current)
        start, stop = sim.site.t, asyncio.Event()
        service = asyncio.create_task(run_service(config, sim=sim, stop=stop))
        try:
            # Ten simulated minutes: zoe identified, its SoC read, several plans made.
            await until(lambda: sim.site.t >= start + 600, "ten simulated minutes")
            during = (garage.mode, garage.limit_soc, garage.max_current)
            identified = garage.identified(sim.site.vehicles)
        finally:
            stop.set()
            assert await asyncio.wait_for(service, 30) == 0
    assert identified is not None and identified.name == "zoe"
    assert during == before
