"""Prometheus metrics with exact values, and the generated token: saved once with mode
0600, printed once, never logged."""

from __future__ import annotations

import io
import os
import resource
import stat
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from loguru import logger
from prometheus_client.parser import text_string_to_metric_families

from smartload.domain import RefreshOutcome, SocReading
from smartload.narrate import outage_event, refresh_event, write_event
from smartload.settings.providers import BudgetSettings
from smartload.settings.web import WebSettings
from smartload.sinks.actuator import Write
from smartload.streams.polling import Outage
from smartload.vehicles.budget import CallBudget
from smartload.web import start_web
from smartload.web.auth import TOKEN_FILE, load_token
from tests.web.builders import BERLIN, NOW, make_parts, plan, settings, site_state, zoe_reading


def _started_at() -> float:
    """This process's start (Unix time) as the kernel tells it: boot time plus the start
    field of /proc/self/stat in clock ticks."""
    with open("/proc/stat") as stat_file:
        boot = next(float(line.split()[1]) for line in stat_file if line.startswith("btime "))
    with open("/proc/self/stat") as stat_file:
        fields = stat_file.read().rpartition(")")[2].split()
    return boot + float(fields[19]) / os.sysconf("SC_CLK_TCK")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_show_socs_plan_writes_errors_and_budgets(tmp_path):
    cloud = {"type": "http_json", "url": "https://cars.example/zoe", "source": "zoe-cloud"}
    config = settings(tmp_path, refresh={"daily_budget": 10}, vehicles={
        "zoe": {"title": "Renault Zoe", "capacity_kwh": 52, "provider": cloud},
        "ioniq": {"title": "Hyundai Ioniq 5", "capacity_kwh": 77},
    })
    parts = make_parts(config)
    budget = CallBudget("zoe-cloud zoe", BudgetSettings(daily_limit=30, min_interval=timedelta(0)), BERLIN,
                        lambda: parts.clock.now)
    budget.take()
    budget.take()
    # A provider is whatever keeps a CallBudget as `budget` (vehicles/http_json.py does).
    parts.system = replace(parts.system, providers={"zoe": SimpleNamespace(budget=budget)})
    parts.push_state(site_state())
    parts.push_socs(zoe_reading())
    parts.push_plan(plan())
    bus = parts.system.bus
    async with AsyncExitStack() as stack:
        server = await start_web(parts.system, stack)
        write = Write("lp1.mode", "POST", "/api/loadpoints/1/mode/now", "now", "cheap")
        bus.publish(write_event(write, NOW, None))
        bus.publish(write_event(write, NOW, None))
        bus.publish(write_event(write, NOW, "HTTP 500"))
        reading = SocReading("zoe", 45.0, "zoe-cloud", NOW - timedelta(minutes=10), NOW)
        bus.publish(refresh_event(RefreshOutcome("zoe", NOW, NOW, "ok", NOW, reading)))
        bus.publish(refresh_event(RefreshOutcome("zoe", NOW, NOW, "failed", NOW, error="timeout")))
        bus.publish(refresh_event(RefreshOutcome("zoe", NOW, NOW, "budget_exhausted", NOW)))
        bus.publish(outage_event("http://evcc", Outage(NOW, "connect: refused")))
        bus.publish(outage_event("http://evcc", Outage(NOW, "connect: refused", NOW + timedelta(minutes=1), 3)))
        parts.advance(seconds=30)
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.get("/metrics")
    parts.close()
    assert answer.headers["content-type"].startswith("text/plain")
    got = samples(answer.text)
    process = {key: value for key, value in got.items() if key[0].startswith("process_")}
    assert {name for name, _ in process} >= {
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
        "process_start_time_seconds", "process_open_fds", "process_max_fds"}
    # The process collector reads /proc: the same figures the kernel gives for this process.
    assert process["process_max_fds", ()] == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert process["process_start_time_seconds", ()] == pytest.approx(_started_at(), abs=0.01)
    assert process["process_resident_memory_bytes", ()] > 10_000_000  # a Python with numpy: well above 10 MB
    got = {key: value for key, value in got.items() if key not in process}
    assert got == {
        ("smartload_vehicle_soc_percent", (("source", "zoe-cloud"), ("vehicle", "zoe"))): 45.0,
        ("smartload_vehicle_soc_age_seconds", (("vehicle", "zoe"),)): 630.0,
        # evcc's last poll (builders.site_state): zoe charging 11 kW at Garage, the battery idle at 50 %.
        ("smartload_loadpoint_power_watts", (("loadpoint", "1"), ("title", "Garage"))): 11000.0,
        ("smartload_loadpoint_connected", (("loadpoint", "1"), ("title", "Garage"))): 1.0,
        ("smartload_grid_power_watts", ()): 10500.0,
        ("smartload_pv_power_watts", ()): 0.0,
        ("smartload_home_power_watts", ()): 500.0,
        ("smartload_battery_soc_percent", ()): 50.0,
        ("smartload_battery_power_watts", ()): 0.0,
        ("smartload_price_eur_per_kwh", (("tariff", "grid"),)): 0.30,
        ("smartload_price_eur_per_kwh", (("tariff", "feedin"),)): 0.08,
        ("smartload_vehicle_projected_soc_percent", (("vehicle", "ioniq"),)): 20.0,
        ("smartload_vehicle_projected_soc_percent", (("vehicle", "zoe"),)): 55.0,
        ("smartload_vehicle_shortfall_kwh", (("vehicle", "ioniq"),)): 46.2,
        ("smartload_vehicle_shortfall_kwh", (("vehicle", "zoe"),)): 13.0,
        ("smartload_plan_cost_eur", ()): 1.9625,
        ("smartload_plan_solve_seconds", ()): 0.042,
        ("smartload_plan_status", (("status", "optimal"),)): 1.0,
        ("smartload_evcc_reachable", ()): 1.0,
        ("smartload_last_poll_timestamp_seconds", ()): NOW.timestamp(),
        ("smartload_evcc_writes_total", (("result", "ok"),)): 2.0,
        ("smartload_evcc_writes_total", (("result", "failed"),)): 1.0,
        ("smartload_errors_total", (("where", "outage"),)): 1.0,
        ("smartload_errors_total", (("where", "refresh"),)): 1.0,
        ("smartload_errors_total", (("where", "write"),)): 1.0,
        # Two refreshes spent calls (ok and failed); the refused one did not.
        ("smartload_refresh_budget_remaining", (("vehicle", "zoe"),)): 8.0,
        ("smartload_refresh_budget_remaining", (("vehicle", "ioniq"),)): 10.0,
        ("smartload_cloud_budget_remaining", (("provider", "http_json"), ("vehicle", "zoe"))): 28.0,
    }


async def test_a_generated_token_is_saved_privately_printed_once_and_never_logged(tmp_path, capsys):
    token, created = load_token(WebSettings(), tmp_path)
    path = tmp_path / TOKEN_FILE
    assert created and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_token(WebSettings(), tmp_path) == (token, False)
    assert load_token(WebSettings(token="from-settings-0123456789"), tmp_path) == ("from-settings-0123456789", False)
    path.unlink()

    log = io.StringIO()
    sink = logger.add(log, level="DEBUG")
    config = settings(tmp_path, web={"port": 0})
    for start in (1, 2):
        parts = make_parts(config)
        async with AsyncExitStack() as stack:
            server = await start_web(parts.system, stack)
            async with httpx.AsyncClient(base_url=server.url) as client:
                generated = path.read_text().strip()
                ok = await client.post("/api/vehicles/zoe/boost", json={"minutes": 5},
                                       headers={"Authorization": f"Bearer {generated}"})
                assert ok.status_code == 200, start
        parts.close()
    logger.remove(sink)
    printed = capsys.readouterr().err
    assert printed.count(generated) == 2  # the token and the link, at the first start only
    assert f"/#token={generated}" in printed
    assert generated not in log.getvalue()
