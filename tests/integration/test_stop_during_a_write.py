"""A clean stop while writes to evcc are still on their way (review of issue 17).

The simulator applies a write at once but answers it after evcc's write latency (here 30
simulated seconds, half a wall-clock second), as a busy evcc on a small board does. The
service is stopped the moment its first writes reach evcc, before any is answered: it must
wait for the answers, and then put every setting back, so evcc ends as it was before
smartload wrote anything and nothing is left to restore in the data directory.
"""

from __future__ import annotations

import asyncio

from smartload.service import run_service
from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from smartload.store.database import Database
from smartload.store.evcc_restore import EvccRestoreStore
from tests.integration.test_service_against_sim import SPEED, settings
from tests.sim.helpers import local
from tests.waiting import until


async def test_writes_on_their_way_at_a_clean_stop_land_and_are_put_back(tmp_path):
    config = settings(tmp_path)
    sim_settings = SimSettings(speed=SPEED, start=local("2024-07-15T06:00:00"), seed=1, write_latency_s=30)
    async with SimServer(sim_settings) as sim:

        def settings_shown() -> list[tuple[str, int, float]]:
            return [(lp.mode, lp.limit_soc, lp.max_current) for lp in sim.site.loadpoints]

        before = settings_shown()  # no car leaves in these few simulated minutes: only writes change them
        evcc = sim.app.state.sim
        stop = asyncio.Event()
        service = asyncio.create_task(run_service(config, sim=sim, stop=stop))
        try:
            await until(lambda: evcc.writes_received > 0, "smartload's first write to reach evcc")
            assert settings_shown() != before  # applied, its answer still on its way
        finally:
            stop.set()
            assert await asyncio.wait_for(service, 30) == 0
        after = settings_shown()
    assert evcc.writes == evcc.writes_received > 1  # smartload's writes landed, then the restore's
    assert after == before
    with Database.open(tmp_path / "smartload.db") as db:
        assert EvccRestoreStore(db).load() == {}
