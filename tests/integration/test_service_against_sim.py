"""The real service against the embedded simulator over real HTTP on 127.0.0.1.

The simulator runs sped up (1 simulated minute per second) and the service runs on its
clock, so a plug-in, the cloud refresh it causes, an evcc outage and the recovery all
happen within a few wall-clock seconds. The test waits for events with a deadline; it
never sleeps a fixed time to let something happen.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from smartload.domain import ConnectionEdge, RefreshOutcome
from smartload.service import run_service
from smartload.settings import Settings
from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from smartload.store.database import Database
from smartload.store.house import HouseProfileStore
from smartload.streams.polling import Outage
from smartload.system import System
from tests.sim.helpers import local
from tests.waiting import until

SPEED = 60.0


def settings(tmp_path) -> Settings:
    cloud = {"type": "http_json", "soc_path": "soc", "time_path": "measured_at"}
    return Settings.model_validate({
        "evcc": {"url": "embedded", "poll_interval": "10s", "outage_backoff_max": "1m"},
        "data_dir": str(tmp_path),
        "vehicles": {
            "zoe": {"capacity_kwh": 52, "provider": {**cloud, "url": "embedded:/cloud/zoe/soc", "source": "zoe-cloud"}},
            "ioniq": {"capacity_kwh": 77, "provider": {**cloud, "url": "embedded:/cloud/ioniq/soc"}},
        },
    })


async def test_plug_in_refreshes_through_the_car_cloud_and_the_pipeline_survives_an_outage(tmp_path):
    config = settings(tmp_path)
    sim_settings = SimSettings(speed=SPEED, start=local("2024-07-15T06:00:00"), seed=1)
    edges: list[ConnectionEdge] = []
    refreshes: list[RefreshOutcome] = []
    outages: list[Outage] = []
    polled: list[datetime] = []

    runtimes: list[System] = []

    async def watch(runtime: System, _stack, _first_poll) -> None:
        runtimes.append(runtime)
        graph, scheduler = runtime.graph, runtime.scheduler
        graph.edges.subscribe(edges.append, scheduler=scheduler)
        graph.refreshes.subscribe(refreshes.append, scheduler=scheduler)
        graph.outages.subscribe(outages.append, scheduler=scheduler)
        graph.states.subscribe(lambda s: polled.append(s.at), scheduler=scheduler)

    async with SimServer(sim_settings) as sim:
        stop = asyncio.Event()
        service = asyncio.create_task(run_service(config, sim=sim, stop=stop, on_runtime=watch))
        try:
            await until(lambda: any(r.vehicle == "zoe" for r in refreshes), "zoe's cloud refresh")
            [edge] = [e for e in edges if e.vehicle == "zoe"]
            assert (edge.reason, edge.loadpoint_id) == ("plugged", 1)
            [refresh] = [r for r in refreshes if r.vehicle == "zoe"]
            assert refresh.status == "ok" and refresh.reading is not None
            # The scenario's zoe really holds 31 % while evcc still shows 58 % from its last charge.
            assert (refresh.reading.soc_pct, refresh.reading.source) == (31.0, "zoe-cloud")
            assert refresh.requested_at == edge.at
            assert refresh.reading.measured_at <= refresh.requested_at  # the cloud's time, not ours

            await sim.stop_serving()
            await until(lambda: len(outages) == 1, "the outage to be noticed")
            assert outages[0].ended_at is None and outages[0].first_error.startswith("connect")
            down_at = sim.now()
            await until(lambda: sim.now() - down_at >= config.evcc.poll_interval * 6, "a few polls to fail")
            await sim.start_serving()
            await until(lambda: len(outages) == 2, "polling to resume")
            assert outages[1].ended_at is not None and outages[1].failed_polls >= 3
            resumed = len(polled)
            await until(lambda: len(polled) >= resumed + 7, "regular polls after the outage")
            # Back to one poll per 10 simulated seconds (the simulated clock moves in 6 s steps).
            mean_gap = (polled[-1] - polled[-7]).total_seconds() / 6
            assert 8 <= mean_gap <= 14, mean_gap
        finally:
            stop.set()
            assert await asyncio.wait_for(service, 20) == 0
    # The house load it learned that Monday morning was kept in the data directory on the way out.
    with Database.open(tmp_path / "smartload.db") as db:
        learned = HouseProfileStore(db).load()
    assert learned == runtimes[0].planning.sequencer.house.learned()
    assert learned and all(not weekend and 24 <= quarter < 32 for weekend, quarter in learned), learned
    assert all(50 < watts < 3000 for watts in learned.values()), learned
