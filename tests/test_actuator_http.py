"""The actuator against the simulator over real HTTP: diffs only, overrides pause control
until the car unplugs, observe mode sends nothing, restore puts values back."""

from __future__ import annotations

import pytest

from smartload.evcc.client import EvccClient
from smartload.evcc.state import parse_state
from smartload.settings import ControlSettings
from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from smartload.sinks.actuator import Actuator, Write, WriteOutcome
from smartload.sinks.desired import Intent
from tests.sim.helpers import local, scenario


class Harness:
    """Runs the actuator's writes through a real evcc client and acks them, like the service."""

    def __init__(self, sim: SimServer, client: EvccClient, mode: str = "act") -> None:
        self.sim, self.client = sim, client
        self.queue: list[Write] = []
        self.sent: list[str] = []
        self.observed: list[str] = []
        self.actuator = Actuator(ControlSettings(mode=mode))
        self.actuator.outbox.subscribe(self.queue.append)
        self.actuator.observed.subscribe(lambda o: self.observed.append(f"{o.write.method} {o.write.path}"))

    async def state(self):
        return parse_state(await self.client.get_state(), self.sim.now())

    async def poll(self, seconds: float = 10) -> list[str]:
        """Advance simulated time, poll evcc once, send what the actuator wants."""
        self.sim.advance(seconds)
        self.actuator.on_state(await self.state())
        paths = []
        while self.queue:
            write = self.queue.pop(0)
            await (self.client.post(write.path) if write.method == "POST" else self.client.delete(write.path))
            self.actuator.ack(WriteOutcome(write, self.sim.now()))
            paths.append(f"{write.method} {write.path}")
        self.sent += paths
        return paths


@pytest.fixture
async def harness():
    settings = SimSettings(start=local("2024-07-15T20:00:00"), speed=1)
    sim = SimServer(settings, scenario=scenario(battery={"capacity_kwh": 10, "soc_pct": 60}), run_clock=False)
    async with sim, EvccClient(sim.url, timeout_s=5) as client:
        sim.site.hold(pv_w=0, house_w=300)
        yield Harness(sim, client)


LP1_NOW = {"lp1.mode": Intent("now", "cheapest slot"), "lp1.maxcurrent": Intent("10", "6900 W planned"),
           "lp1.limitsoc": Intent("80", "target")}


async def test_writes_only_the_difference_and_nothing_while_nothing_changes(harness):
    harness.actuator.set_desired(LP1_NOW)
    assert await harness.poll() == [
        "POST /api/loadpoints/1/mode/now", "POST /api/loadpoints/1/maxcurrent/10", "POST /api/loadpoints/1/limitsoc/80",
    ]
    for _ in range(6):
        assert await harness.poll() == []
    lp = (await harness.state()).loadpoints[0]
    assert (lp.mode.value, lp.max_current_a, lp.limit_soc_pct, lp.charging, lp.charge_power_w) == (
        "now", 10, 80, True, 6900)
    harness.actuator.set_desired({**LP1_NOW, "lp1.mode": Intent("off", "dear slot")})
    assert await harness.poll() == ["POST /api/loadpoints/1/mode/off"]
    assert await harness.poll() == []


async def test_a_change_made_in_evcc_pauses_the_loadpoint_until_the_car_unplugs(harness):
    harness.actuator.set_desired(LP1_NOW)
    await harness.poll()
    await harness.poll()  # evcc shows our values: confirmed
    await harness.client.post("/api/loadpoints/1/mode/pv")  # a person in the evcc UI
    assert await harness.poll() == []
    assert list(harness.actuator.paused) == [1]
    [override] = harness.actuator.overrides
    assert (override.key, override.written, override.observed) == ("lp1.mode", "now", "pv")
    assert await harness.poll() == []  # still paused: smartload does not fight the person
    harness.sim.site.unplug("ev")
    assert await harness.poll() == []
    assert harness.actuator.paused == {}
    harness.sim.site.plug_in("ev", 1)
    # evcc reset the session limit on disconnect and the person's mode stayed; the current
    # smartload set before still stands, so only two writes are needed.
    assert await harness.poll() == ["POST /api/loadpoints/1/mode/now", "POST /api/loadpoints/1/limitsoc/80"]
    restores = [f"{w.method} {w.path}" for w in harness.actuator.restore_writes(await harness.state())]
    assert restores == ["POST /api/loadpoints/1/mode/pv", "POST /api/loadpoints/1/maxcurrent/16",
                        "POST /api/loadpoints/1/limitsoc/0"]


async def test_observe_mode_sends_nothing_and_reports_each_intended_write_once(harness):
    observer = Harness(harness.sim, harness.client, mode="observe")
    observer.actuator.set_desired(LP1_NOW)
    for _ in range(3):
        assert await observer.poll() == []
    assert observer.observed == [
        "POST /api/loadpoints/1/mode/now", "POST /api/loadpoints/1/maxcurrent/10", "POST /api/loadpoints/1/limitsoc/80",
    ]
    lp = (await observer.state()).loadpoints[0]
    assert (lp.mode.value, lp.max_current_a) == ("pv", 16)


async def test_battery_mode_is_resent_before_evcc_lets_it_expire_and_handed_back(harness):
    harness.actuator.set_desired({"batterymode": Intent("hold", "kept for the 18:00 peak")})
    assert await harness.poll() == ["POST /api/batterymode/hold"]
    assert await harness.poll() == []  # 10 s later: still fresh
    assert await harness.poll(10) == []
    assert await harness.poll(10) == ["POST /api/batterymode/hold"]  # 30 s after the write
    assert (await harness.state()).battery.mode == "hold"
    harness.actuator.set_desired({"batterymode": Intent("normal", "battery runs on its own")})
    assert await harness.poll() == ["DELETE /api/batterymode"]
    assert await harness.poll() == []


async def test_restore_puts_back_what_smartload_changed(harness):
    harness.actuator.set_desired(LP1_NOW)
    await harness.poll()
    await harness.poll()
    restores = [f"{w.method} {w.path}" for w in harness.actuator.restore_writes(await harness.state())]
    assert restores == ["POST /api/loadpoints/1/mode/pv", "POST /api/loadpoints/1/maxcurrent/16",
                        "POST /api/loadpoints/1/limitsoc/0"]


def test_writes_map_to_evccs_endpoints():
    from smartload.sinks.actuator import write_for

    assert write_for("lp2.vehicle", "db:69", "x").path == "/api/loadpoints/2/vehicle/db:69"
    assert write_for("batterymode", "charge", "x") == Write("batterymode", "POST", "/api/batterymode/charge",
                                                             "charge", "x")
    assert write_for("batterymode", "normal", "x").method == "DELETE"
