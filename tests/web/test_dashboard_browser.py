"""A real headless Chromium loads the dashboard of the real service running against the
embedded simulator (sped up 60x), sees the plan chart and both cars, and round-trips a
charge request through the form. SMARTLOAD_SCREENSHOTS=DIR keeps desktop and phone
screenshots there."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from smartload.plugins import Plugins, open_plugins
from smartload.service import run_service
from smartload.settings import Settings
from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer
from smartload.system import System
from tests.sim.helpers import local
from tests.waiting import until
from tests.web.builders import TOKEN

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


def service_settings(tmp_path: Path) -> Settings:
    cloud = {"type": "http_json", "soc_path": "soc", "time_path": "measured_at"}
    return Settings.model_validate({
        "data_dir": str(tmp_path), "web": {"port": 0, "token": TOKEN},
        "vehicles": {
            "zoe": {"title": "Renault Zoe", "capacity_kwh": 52, "max_charge_w": 11000,
                    "provider": {**cloud, "url": "embedded:/cloud/zoe/soc", "source": "zoe-cloud"}},
            "ioniq": {"title": "Hyundai Ioniq 5", "capacity_kwh": 77, "max_charge_w": 11000,
                      "provider": {**cloud, "url": "embedded:/cloud/ioniq/soc", "source": "ioniq-cloud"}},
        },
    })


async def test_the_dashboard_shows_the_plan_and_the_cars_and_takes_a_charge_request(tmp_path):
    if CHROMIUM is None:  # a missing browser is a failure, not a skip: CI installs it (.ci/run)
        pytest.fail("this test starts a headless Chromium, which is not installed (apt-get install -y chromium)")
    from playwright import async_api as playwright_api  # in the test extra: pip install -e '.[test]'
    adapters: list[Plugins] = []

    async def start(system: System, stack, first_poll) -> None:
        adapters.append(await open_plugins(system, stack, first_poll))

    # A Monday evening in July: zoe plugs in after 90 simulated seconds; tomorrow's prices are known.
    sim_settings = SimSettings(speed=60, start=local("2024-07-15T19:00:00"), seed=1)
    async with SimServer(sim_settings) as sim:
        stop = asyncio.Event()
        service = asyncio.create_task(run_service(service_settings(tmp_path), sim=sim, stop=stop, on_runtime=start))
        try:
            await until(lambda: bool(adapters) and adapters[0].system.live.plan is not None
                        and "zoe" in adapters[0].system.live.socs, "the first plan with zoe plugged in")
            url = adapters[0].web.url
            async with playwright_api.async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = await browser.new_page(viewport={"width": 1280, "height": 1500})
                problems: list[str] = []
                page.on("pageerror", lambda error: problems.append(str(error)))
                await page.goto(f"{url}/#token={TOKEN}")
                await page.wait_for_selector("body[data-ready='1']")
                assert page.url == f"{url}/"  # the token left the address bar for localStorage

                await page.wait_for_selector("#chart svg path.price")
                await page.wait_for_selector("#chart svg rect.bar.car-zoe")
                assert await page.locator("#chart svg rect.bar").count() >= 1
                assert await page.locator("article.car").count() == 2
                zoe = page.locator("article.car[data-vehicle=zoe]")
                assert await zoe.locator(".name").inner_text() == "Renault Zoe"
                assert re.fullmatch(r"\d+ %", await zoe.locator("[data-field=soc]").inner_text())
                assert re.match(r"from (zoe-cloud|evcc) · ", await zoe.locator("[data-field=soc-source]").inner_text())
                assert (await zoe.locator("[data-field=request]").inner_text()).endswith("(default)")
                assert await page.locator("#events li").count() >= 1
                assert await page.locator("#h-evcc").inner_text() == "evcc ok"
                # The site is the embedded simulator, 60 times faster than real time, and the page says so.
                assert await page.locator("#h-sim").inner_text() == "simulator · 60× speed"
                async with httpx.AsyncClient(base_url=url) as client:
                    health = (await client.get("/api/health")).json()
                assert health["simulator"] == {"speed": 60.0}
                assert re.fullmatch(r"optimal(, within \d+\.\d\d EUR of the best bound)?|(feasible|fallback): .+",
                                    await page.locator("#plan-status").inner_text())

                await zoe.locator("summary").click()
                await zoe.locator("input[name=target]").fill("95")
                await zoe.locator("input[name=departure]").fill("06:30")
                await zoe.locator("button[name=save]").click()
                request_text = zoe.locator("[data-field=request]")
                await page.wait_for_function(
                    "el => el.textContent.startsWith('95 % by Tue 06:30') && el.textContent.endsWith('(api)')",
                    arg=await request_text.element_handle(), timeout=10000)
                async with httpx.AsyncClient(base_url=url) as client:
                    stored = (await client.get("/api/requests")).json()["zoe"]
                assert (stored["target_soc_pct"], stored["departure"], stored["source"]) == (
                    95.0, "2024-07-16T04:30:00Z", "api")

                shots = os.environ.get("SMARTLOAD_SCREENSHOTS")
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    await page.screenshot(path=f"{shots}/dashboard-desktop.png", full_page=True)
                    await page.set_viewport_size({"width": 390, "height": 844})
                    await page.wait_for_function(  # the chart redraws at the phone's width
                        "() => document.querySelector('#chart svg').viewBox.baseVal.width < 600")
                    await page.screenshot(path=f"{shots}/dashboard-phone.png", full_page=True)
                assert problems == []
                await browser.close()
        finally:
            stop.set()
            assert await asyncio.wait_for(service, 20) == 0
