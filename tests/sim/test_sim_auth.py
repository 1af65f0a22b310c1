"""evcc's login as the simulator answers it over HTTP (server/http_auth.go): state and
writes are public; login is locked in demo mode, 401 for a wrong password, a cookie for
the right one; /api/auth/status by mode and cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from smartload.settings.sim import SimSettings
from smartload.sim.server import SimServer

from .helpers import local


@asynccontextmanager
async def serve(**auth) -> AsyncIterator[httpx.AsyncClient]:
    settings = SimSettings(scenario="real_site", start=local("2024-07-15T12:00:00"), seed=1, **auth)
    async with SimServer(settings, run_clock=False) as sim, httpx.AsyncClient(base_url=sim.url) as client:
        yield client


async def public(client: httpx.AsyncClient) -> None:
    """What never needs a login: the state, loadpoint, vehicle and battery writes."""
    assert (await client.get("/api/state")).status_code == 200
    for path, answer in (("/api/loadpoints/1/mode/now", "now"), ("/api/loadpoints/1/limitsoc/80", 80),
                         ("/api/vehicles/zoe/minsoc/20", {"soc": 20}), ("/api/batterymode/hold", 0),
                         ("/api/buffersoc/50", 50.0)):
        response = await client.post(path)
        assert (response.status_code, response.json()) == (200, answer), path


async def test_demo_mode_locks_the_login():
    async with serve(demo_mode=True) as client:
        login = await client.post("/api/auth/login", json={"password": "secret"})
        assert (login.status_code, login.text, login.headers["content-type"]) == (
            403, "Forbidden in demo mode\n", "text/plain; charset=utf-8")
        assert "set-cookie" not in login.headers
        status = await client.get("/api/auth/status")
        assert (status.status_code, status.text) == (403, "Forbidden in demo mode\n")
        state = (await client.get("/api/state")).json()
        assert (state["demoMode"], "authDisabled" in state) == (True, False)
        await public(client)


async def test_a_password_gives_a_cookie_and_a_wrong_one_401():
    async with serve(admin_password="secret") as client:
        assert (await client.get("/api/auth/status")).json() is False
        wrong = await client.post("/api/auth/login", json={"password": "guess"})
        assert (wrong.status_code, wrong.text) == (401, "Invalid password\n")
        empty = await client.post("/api/auth/login")
        assert (empty.status_code, empty.text) == (400, "EOF\n")
        await public(client)
        right = await client.post("/api/auth/login", json={"password": "secret"})
        assert (right.status_code, right.content) == (200, b"")
        cookie = right.headers["set-cookie"]
        assert cookie.startswith("auth=ey") and cookie.count(".") >= 2
        assert cookie.endswith("; HttpOnly; SameSite=Strict") and "; Path=/; Expires=" in cookie
        assert (await client.get("/api/auth/status")).json() is True
        forged_cookie = {"auth": client.cookies["auth"].rsplit(".", 1)[0] + ".AAAA"}
        async with httpx.AsyncClient(base_url=client.base_url, cookies=forged_cookie) as forger:
            assert (await forger.get("/api/auth/status")).json() is False
        state = (await client.get("/api/state")).json()
        assert (state["demoMode"], "authDisabled" in state) == (False, False)
        logout = await client.post("/api/auth/logout")
        assert (logout.status_code, logout.headers["set-cookie"]) == (200, "auth=; Path=/; HttpOnly")


@pytest.mark.parametrize(("auth", "status", "body", "flag"), [
    ({}, 200, "true", True),  # the simulator's default: as evcc --disable-auth
    ({"disable_auth": False}, 501, "Not implemented\n", None),  # evcc with no password set yet
])
async def test_auth_status_without_a_password(auth, status, body, flag):
    async with serve(**auth) as client:
        answer = await client.get("/api/auth/status")
        assert (answer.status_code, answer.text) == (status, body)
        login = await client.post("/api/auth/login", json={"password": ""})
        assert (login.status_code, login.text) == (401, "Invalid password\n")
        assert (await client.get("/api/state")).json().get("authDisabled") is flag
        assert (await client.get("/api/auth/apikey")).status_code == 404
        await public(client)


def test_settings_refuse_an_empty_password_and_never_show_one():
    with pytest.raises(ValueError, match="evcc refuses an empty password"):
        SimSettings(admin_password="")
    settings = SimSettings(admin_password="secret")
    assert "secret" not in repr(settings) and settings.auth_mode == "enabled"
    assert SimSettings(demo_mode=True, disable_auth=True).auth_mode == "locked"
    assert SimSettings().auth_mode == "disabled"
