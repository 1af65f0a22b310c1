"""A real headless Chromium on the real web server over a hand-made system, so every figure
the dashboard words can be asserted exactly: the handoff banner names the car to unplug,
a projection from an assumed SoC says so, each wallbox has evcc's title everywhere, the
battery's discharge has its legend entry, the plan's status is explained, and while evcc
is unreachable the cars' plug state shows as unknown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from smartload.domain import PollError, Rate
from smartload.planner import CarSlot
from smartload.sinks.desired import Intent
from smartload.sinks.sequencer import Handoff
from tests.web.builders import NOW, make_parts, plan, settings, site_state, zoe_reading
from tests.web.conftest import serve
from tests.web.test_dashboard_browser import CHROMIUM, FLAGS


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if CHROMIUM is None:  # a missing browser is a failure, not a skip: CI installs it (.ci/run)
        pytest.fail("this test starts a headless Chromium, which is not installed (apt-get install -y chromium)")
    from playwright import async_api as playwright_api  # in the test extra: pip install -e '.[test]'

    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


async def _text_becomes(page: Any, selector: str, expected: str) -> None:
    await page.wait_for_function("([s, t]) => document.querySelector(s)?.textContent === t",
                                 arg=[selector, expected], timeout=10000)


async def test_the_dashboard_words_handoffs_assumptions_wallboxes_and_plan_status(tmp_path, browser):
    parts = make_parts(settings(tmp_path))
    parts.push_state(site_state())
    parts.push_socs(zoe_reading())
    # ioniq (no SoC: planned from planning.unknown_soc_pct) takes zoe's wallbox in the last slot.
    ioniq_later = plan()
    last = ioniq_later.slots[3]
    ioniq_later = replace(ioniq_later, slots=(*ioniq_later.slots[:3], replace(
        last, cars={**last.cars, "ioniq": CarSlot(1, 11000.0, 30.0, 2.75)})))
    parts.push_plan(ioniq_later)
    parts.system.planning.handoffs.append(Handoff(1, "ioniq", NOW + timedelta(minutes=30), "zoe", NOW))
    parts.system.planning.actuator.set_desired({"lp1.mode": Intent("now", "cheapest slots")})
    stack, served = await serve(parts)
    async with stack:
        page = await browser.new_page(viewport={"width": 1280, "height": 1400})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        await page.goto(served.server.url + "/")
        await page.wait_for_selector("body[data-ready='1']")

        assert await page.locator("#handoff").inner_text() == (
            "Next: unplug Renault Zoe, then plug in Hyundai Ioniq 5 at Garage by 20:30")
        zoe = page.locator("article.car[data-vehicle=zoe]")
        ioniq = page.locator("article.car[data-vehicle=ioniq]")
        assert await zoe.locator("[data-field=projected]").inner_text() == "55 % (13.0 kWh short)"
        assert await ioniq.locator("[data-field=projected]").inner_text() == (
            "~ 20 % (assumed: SoC unknown, planned from 20 %) (46.2 kWh short)")
        # One name per wallbox: evcc's title on the car, in the banner and in the settings table.
        assert await zoe.locator(".where").inner_text() == "at Garage · charging 11.0 kW"
        assert await ioniq.locator(".where").inner_text() == "not plugged in"
        settings_rows = await page.locator("#settings tbody tr td:first-child").all_inner_texts()
        assert settings_rows == ["Garage · mode", "Garage · maxcurrent", "Garage · limitsoc", "Garage · vehicle",
                                 "batterymode"]
        legend = await page.locator("#legend li").all_inner_texts()
        assert legend == ["Renault Zoe", "Hyundai Ioniq 5", "home battery charging",
                          "home battery discharging (below 0)", "PV forecast", "grid price (right axis)"]
        swatch = page.locator("#legend li[data-key=discharge] i")
        assert await swatch.evaluate("node => getComputedStyle(node).opacity") == "0.45"
        assert await page.locator("#chart svg rect.bar.battery.discharge").count() == 1
        assert await page.locator("#plan-status").inner_text() == "optimal, within 0.00 EUR of the best bound"
        assert await page.locator("#h-sim").is_hidden()  # no simulator behind this system

        # evcc's solarAdjusted on, and the last hour at 3 kW against a 2 kW forecast:
        # (3 + 1) / (2 + 1) kWh, with the correction's 1 kWh prior. The PV area says so.
        solar = parts.system.planning.sequencer.solar
        assert solar is not None
        forecast = (Rate(NOW - timedelta(hours=1), NOW + timedelta(hours=1), 2000.0),)
        for minute in range(61):
            at = NOW - timedelta(minutes=60 - minute)
            if minute % 15 == 0:
                solar.forecast_seen(at, forecast)
            solar.observe(at, 3000.0, True)
        parts.push_state(replace(site_state(), solar_adjusted=True))
        await _text_becomes(page, "#legend li[data-key=pv]", "PV forecast × 1.33 (today's production)")

        # A plan stopped at the 2 s time limit says how far from the best bound it may be:
        # gap 0.05 of its 1.96 EUR energy cost.
        parts.push_plan(replace(ioniq_later, status="feasible", gap=0.05, total_time_s=1.95))
        await _text_becomes(page, "#plan-status",
                            "feasible: stopped at the time limit (2 s), within 0.10 EUR of the best bound")
        assert await page.locator("#h-plan").get_attribute("title") == (
            "feasible: stopped at the time limit (2 s), within 0.10 EUR of the best bound")
        parts.push_plan(replace(ioniq_later, status="fallback", gap=None))
        await _text_becomes(page, "#plan-status", "fallback: the solver gave no answer, so the cars charge in "
                            "order of arrival or as the first estimate says; no bound to compare with")

        # evcc stops answering: nobody knows whether a car is plugged in.
        parts.subjects["errors"].on_next(PollError(NOW, "connect", "connection refused"))
        unknown = "plugged in: unknown (evcc unreachable)"
        await _text_becomes(page, "article.car[data-vehicle=ioniq] .where", unknown)
        assert await zoe.locator(".where").inner_text() == (
            "plugged in: unknown (evcc unreachable; last seen at Garage)")
        assert await page.locator("#h-evcc").inner_text() == "evcc unreachable"
        # ... until it answers again.
        parts.push_state(site_state(at=NOW))
        await _text_becomes(page, "article.car[data-vehicle=ioniq] .where", "not plugged in")
        assert problems == []
    parts.close()
