"""The simulator over real HTTP on 127.0.0.1 port 0: evcc's writes, errors, tariffs, the car
cloud, old layouts, an outage (stop and restart on the same port) and the live clock."""

from __future__ import annotations

import argparse
import asyncio
import math

import httpx
import pytest

from smartload.settings.sim import SimSettings
from smartload.sim.cli import add_sim_arguments, sim_main, sim_settings_from
from smartload.sim.days import rfc3339
from smartload.sim.server import SimServer

from .helpers import local

START = "2024-07-15T20:00:00"


def settings(**overrides) -> SimSettings:
    return SimSettings(**{"scenario": "household", "start": local(START), "seed": 1, "speed": 60, **overrides})


class Sleeps:
    """Records the cloud latencies the server waits (simulated seconds) instead of sleeping."""

    def __init__(self) -> None:
        self.waited: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


@pytest.fixture
async def sim():
    sleeps = Sleeps()
    async with SimServer(settings(), run_clock=False, cloud_sleep=sleeps) as server:
        server.sleeps = sleeps
        async with httpx.AsyncClient(base_url=server.url) as client:
            server.client = client
            yield server


async def test_state_is_served_with_the_simulated_time(sim):
    response = await sim.client.get("/api/state")
    assert response.status_code == 200
    assert response.headers["x-sim-time"] == "2024-07-15T18:00:00Z"
    body = response.json()
    assert (body["version"], body["siteTitle"], body["loadpoints"][0]["title"]) == ("0.315.0", "Household", "Garage")
    assert sim.url == f"http://127.0.0.1:{sim.port}" and sim.port > 0
    assert sim.now() == local(START)
    clock = (await sim.client.get("/sim/clock")).json()
    assert clock == {"now": "2024-07-15T18:00:00Z", "local": "Mon 2024-07-15 20:00:00 CEST", "speed": 60.0}
    health = await sim.client.get("/api/health")
    assert (health.status_code, health.text) == (200, "OK\n")


WRITES = [
    ("POST", "/api/loadpoints/1/mode/now", 200, "now"),
    ("POST", "/api/loadpoints/1/mode/fast", 400, {"error": "fast does not belong to ChargeMode values"}),
    ("POST", "/api/loadpoints/1/mode/NOW", 404, "404 page not found\n"),
    ("POST", "/api/loadpoints/2/mode/now", 404, "404 page not found\n"),
    ("POST", "/api/loadpoints/0/limitsoc/80", 404, "404 page not found\n"),
    ("POST", "/api/loadpoints/1/limitsoc/80", 200, 80),
    ("POST", "/api/loadpoints/1/limitsoc/150", 400, {"error": "invalid limit soc: 150"}),
    ("POST", "/api/loadpoints/1/limitsoc/abc", 404, "404 page not found\n"),
    ("POST", "/api/loadpoints/1/mincurrent/8", 200, 8.0),
    ("POST", "/api/loadpoints/1/mincurrent/20", 400, {"error": "min current 20A exceeds max current 16A"}),
    ("POST", "/api/loadpoints/1/maxcurrent/10", 200, 10.0),
    ("POST", "/api/loadpoints/1/maxcurrent/7", 400, {"error": "max current 7A is below min current 8A"}),
    ("POST", "/api/loadpoints/1/phases/1", 400, {"error": "charger does not support phase switching"}),
    ("POST", "/api/loadpoints/1/phases/2", 400, {"error": "invalid number of phases: 2"}),
    ("POST", "/api/loadpoints/1/phases/3", 200, 3),
    ("POST", "/api/loadpoints/1/vehicle/ioniq", 200, {"vehicle": "Hyundai Ioniq 5"}),
    ("POST", "/api/loadpoints/1/vehicle/tesla", 400, {"error": "vehicle not found: tesla"}),
    ("DELETE", "/api/loadpoints/1/vehicle", 200, {}),
    ("POST", "/api/loadpoints/1/smartcostlimit/0.25", 200, 0.25),
    ("POST", "/api/loadpoints/1/smartcostlimit/-0.05", 200, -0.05),
    ("DELETE", "/api/loadpoints/1/smartcostlimit", 200, None),
    ("POST", "/api/smartcostlimit/0.2", 200, 0.2),
    ("DELETE", "/api/smartcostlimit", 200, None),
    ("POST", "/api/vehicles/zoe/plan/soc/80/2024-07-16T05:00:00Z", 200, {"soc": 80, "time": "2024-07-16T05:00:00Z"}),
    ("POST", "/api/vehicles/zoe/plan/soc/80/2024-07-16T07:00:00+02:00", 200,
     {"soc": 80, "time": "2024-07-16T05:00:00Z"}),
    ("POST", "/api/vehicles/zoe/plan/soc/80/2024-07-15T05:00:00Z", 400, {"error": "timestamp is in the past"}),
    ("POST", "/api/vehicles/zoe/plan/soc/180/2024-07-16T05:00:00Z", 400, {"error": "invalid soc: 180"}),
    ("POST", "/api/vehicles/tesla/plan/soc/80/2024-07-16T05:00:00Z", 400, {"error": "vehicle not found: tesla"}),
    ("DELETE", "/api/vehicles/zoe/plan/soc", 200, {}),
    ("POST", "/api/vehicles/zoe/limitsoc/85", 200, {"soc": 85}),
    ("POST", "/api/batterymode/charge", 200, 3),
    ("POST", "/api/batterymode/turbo", 400, {"error": "turbo does not belong to BatteryMode values"}),
    ("DELETE", "/api/batterymode", 200, 0),
    ("POST", "/api/batterygridchargelimit/0.15", 200, 0.15),
    ("DELETE", "/api/batterygridchargelimit", 200, None),
    ("POST", "/api/batterydischargecontrol/true", 200, True),
    ("POST", "/api/batterydischargecontrol/0", 200, False),
    ("POST", "/api/batterydischargecontrol/tru", 400, {"error": 'strconv.ParseBool: parsing "tru": invalid syntax'}),
    ("POST", "/api/batterydischargecontrol/yes", 404, "404 page not found\n"),
    ("POST", "/api/buffersoc/80", 200, 80.0),
    ("POST", "/api/buffersoc/150", 400, {"error": "invalid soc: 150"}),
    ("POST", "/api/prioritysoc/40", 200, 40.0),
    ("POST", "/api/bufferstartsoc/90", 200, 90.0),
    ("POST", "/api/residualpower/-200", 200, -200.0),
    ("POST", "/api/solaradjusted/true", 200, True),
    ("POST", "/api/solaradjusted/maybe", 404, "404 page not found\n"),
    ("GET", "/api/nothing", 404, "404 page not found\n"),
]


async def test_writes_answer_as_evcc_does(sim, sim_log):
    for method, path, status, expected in WRITES:
        response = await sim.client.request(method, path)
        assert response.status_code == status, (method, path, response.text)
        body = response.text if isinstance(expected, str) and status == 404 else response.json()
        assert body == expected, (method, path)
    site = sim.site
    lp = site.loadpoint(1)
    assert (lp.mode, lp.limit_soc, lp.min_current, lp.max_current, lp.smart_cost_limit) == ("now", 80, 8.0, 10.0, None)
    assert (site.control.buffer_soc, site.control.priority_soc, site.control.buffer_start_soc) == (80.0, 40.0, 90.0)
    assert site.control.discharge_control is False and site.residual_power_w == -200.0
    assert site.solar_adjusted is True
    assert (await sim.client.get("/api/state")).json()["solarAdjusted"] is True
    assert site.vehicle("zoe").limit_soc_pct == 85.0 and site.vehicle("zoe").plan_time is None
    assert sim.app.state.sim.writes == sum(1 for _, _, status, _ in WRITES if status == 200)
    assert any("write POST /api/loadpoints/1/mode/now -> now" in m for m in sim_log)
    assert any("write POST /api/loadpoints/1/mode/fast -> 400" in m for m in sim_log)


async def test_writes_show_up_in_the_state(sim):
    await sim.client.post("/api/loadpoints/1/mode/now")
    await sim.client.post("/api/vehicles/zoe/plan/soc/80/2024-07-16T05:00:00Z")
    sim.advance(150)
    await sim.client.post("/api/batterymode/hold")
    sim.advance(10)
    state = (await sim.client.get("/api/state")).json()
    lp = state["loadpoints"][0]
    assert (lp["mode"], lp["connected"], lp["charging"], lp["vehicleName"]) == ("now", True, True, "zoe")
    assert lp["chargePower"] == pytest.approx(11000.0)
    assert (lp["effectivePlanSoc"], lp["planTime"]) == (80, "2024-07-16T07:00:00+02:00")
    assert state["vehicles"]["zoe"]["plan"] == {"soc": 80, "time": "2024-07-16T05:00:00Z"}
    assert (state["batteryMode"], state["battery"]["power"]) == ("hold", 0.0)
    assert state["grid"]["power"] == pytest.approx(11000.0 + state["homePower"] - state["pvPower"], abs=0.01)


async def test_tariffs(sim):
    grid = (await sim.client.get("/api/tariff/grid")).json()["rates"]
    expected = sim.site.tariff.grid_rates(sim.site.t)
    assert len(grid) == len(expected) == 4 * 4 + 96
    assert grid[0] == {"start": "2024-07-15T20:00:00+02:00", "end": "2024-07-15T20:15:00+02:00",
                       "value": round(expected[0][2], 3)}
    feedin = (await sim.client.get("/api/tariff/feedin")).json()["rates"]
    assert {r["value"] for r in feedin} == {0.08}
    solar = (await sim.client.get("/api/tariff/solar")).json()["rates"]
    state = (await sim.client.get("/api/state")).json()
    assert solar[0]["value"] == state["tariffSolar"] and max(r["value"] for r in solar) > 1000
    assert solar[-1]["end"] == "2024-07-18T00:00:00+02:00"
    unknown = await sim.client.get("/api/tariff/heat")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "heat does not belong to TariffUsage values"})
    co2 = await sim.client.get("/api/tariff/co2")
    assert (co2.status_code, co2.json()) == (404, {"error": "tariff not available"})


async def test_car_cloud_answers_with_latency_then_rate_limits(sim):
    sim.advance(200)
    response = await sim.client.get("/cloud/zoe/soc")
    assert response.status_code == 200
    # zoe reported at its plug-in (90 s); the report reached the cloud 60 s later.
    assert response.json() == {"soc": 31.0, "measured_at": "2024-07-15T18:01:30Z"}
    assert sim.sleeps.waited == [3.0]
    for _ in range(29):
        assert (await sim.client.get("/cloud/zoe/soc")).status_code == 200
    limited = await sim.client.get("/cloud/zoe/soc")
    assert limited.status_code == 429
    seconds_to_midnight = 4 * 3600 - 200
    assert limited.headers["retry-after"] == str(math.ceil(seconds_to_midnight / 60))
    assert limited.json() == {"error": "daily request limit of 30 reached", "reset_at": "2024-07-15T22:00:00Z"}
    assert (await sim.client.get("/cloud/tesla/soc")).status_code == 404


async def test_older_layouts_wrap_and_rename():
    async with SimServer(settings(layout="0.206.0"), run_clock=False) as old, \
            httpx.AsyncClient(base_url=old.url) as client:
        state = (await client.get("/api/state")).json()
        assert set(state) == {"result"}
        body = state["result"]
        assert body["version"] == "0.206.0"
        assert body["batterySoc"] == 45.0 and body["battery"][0]["controllable"] is True
        assert set(body["forecast"]["grid"][0]) == {"start", "end", "value"}
        assert (await client.post("/api/loadpoints/1/mode/now")).json() == {"result": "now"}
        refused = (await client.post("/api/loadpoints/1/mode/x")).json()
        assert refused == {"error": "x does not belong to ChargeMode values"}
        tariff = (await client.get("/api/tariff/grid")).json()
        assert set(tariff["result"]["rates"][0]) == {"start", "end", "value"}
    async with SimServer(settings(layout="0.200.0"), run_clock=False) as older, \
            httpx.AsyncClient(base_url=older.url) as client:
        tariff = (await client.get("/api/tariff/grid")).json()
        assert set(tariff["result"]["rates"][0]) == {"start", "end", "price"}


async def test_outage_stop_and_restart_on_the_same_port(sim):
    port = sim.port
    await sim.stop_serving()
    assert not sim.serving
    with pytest.raises(httpx.ConnectError):
        await sim.client.get("/api/state")
    sim.advance(600)
    await sim.start_serving()
    assert (sim.port, sim.serving) == (port, True)
    response = await sim.client.get("/api/state")
    assert response.status_code == 200
    assert response.headers["x-sim-time"] == rfc3339(local(START).timestamp() + 600)
    assert response.json()["loadpoints"][0]["connected"] is True


async def test_the_live_clock_follows_wall_time_times_speed():
    wall = [0.0]
    ticks: asyncio.Queue[None] = asyncio.Queue()

    async def tick():
        await ticks.get()
        wall[0] += 0.5

    async def ticked(count: int) -> None:
        # The clock steps synchronously after each tick, so once the wall time moved the
        # steps are done; sleep(0) only yields to the clock task (no wall time passes).
        goal = wall[0] + 0.5 * count
        for _ in range(count):
            ticks.put_nowait(None)
        while wall[0] < goal:
            await asyncio.sleep(0)

    server = SimServer(settings(speed=120), tick=tick, wall_time=lambda: wall[0])
    start = local(START).timestamp()
    async with server:
        await ticked(4)
        assert server.site.t == start + 240
        await ticked(1)
        assert server.site.t == start + 300
        assert server.clock_task is not None and not server.clock_task.done()
    assert server.clock_task is None


def test_cli_options_override_the_settings():
    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    args = parser.parse_args(["--port", "7070", "--speed", "600", "--scenario", "business", "--layout", "0.207.5",
                              "--start", "2024-07-15T08:00:00+02:00"])
    merged = sim_settings_from(args, settings())
    assert (merged.port, merged.speed, merged.scenario, merged.layout, merged.seed) == (
        7070, 600.0, "business", "0.207.5", 1)
    assert merged.start == local("2024-07-15T08:00:00")


async def test_cli_rejects_bad_settings_with_exit_code_2(capsys):
    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    assert await sim_main(parser.parse_args(["--layout", "0.100.0"]), settings()) == 2
    assert await sim_main(parser.parse_args(["--scenario", "castle"]), settings()) == 2
    out = capsys.readouterr().out
    assert "sim.layout: layouts older than evcc 0.133.0 are not simulated" in out
    assert "unknown scenario 'castle'" in out
