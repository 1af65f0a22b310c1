"""EvccClient against a real HTTP server (Starlette on uvicorn, 127.0.0.1, port 0)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from loguru import logger
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from smartload.evcc.client import EvccClient, EvccUnavailable, EvccWriteError
from smartload.evcc.state import parse_tariff
from tests.fixtures_evcc import STATE_0207, TARIFF_GRID, body

PASSWORD = "pw-Sekr3t!"
API_KEY = "evcc_k3y-0123456789"
SECRETS = (PASSWORD, API_KEY)


@dataclass
class FakeEvcc:
    """The parts of evcc's REST API the client uses, with evcc's auth rules."""

    protected: bool = False
    reject_all: bool = False  # every protected request is 401, even after a login
    hang: bool = False  # /api/state never answers
    demo: bool = False  # evcc --demo: every login is 403
    released: asyncio.Event = field(default_factory=asyncio.Event)
    tokens: set[str] = field(default_factory=set)
    logins: int = 0
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, credential
    bodies: list[bytes] = field(default_factory=list)

    def authorised(self, request: Request) -> bool:
        if not self.protected:
            return True
        if self.reject_all:
            return False
        return request.headers.get("authorization") == f"Bearer {API_KEY}" or (
            request.cookies.get("auth") in self.tokens
        )

    def app(self) -> Starlette:
        async def login(request: Request) -> Response:
            self.seen.append(("POST", "/api/auth/login", None))
            if self.demo:
                return JSONResponse({"error": "demo mode"}, status_code=403)
            if (await request.json()).get("password") != PASSWORD:
                return JSONResponse({"error": "invalid password"}, status_code=401)
            self.logins += 1
            token = f"jwt-{self.logins}"
            self.tokens.add(token)
            response = JSONResponse(True)
            response.set_cookie("auth", token, httponly=True, path="/")
            return response

        def guarded(handler):  # type: ignore[no-untyped-def]
            async def wrapper(request: Request) -> Response:
                credential = request.headers.get("authorization") or request.cookies.get("auth")
                self.seen.append((request.method, request.url.path, credential))
                self.bodies.append(await request.body())
                if not self.authorised(request):
                    return JSONResponse({"error": "unauthorized"}, status_code=401)
                return await handler(request)

            return wrapper

        async def state(_: Request) -> Response:
            if self.hang:
                await self.released.wait()
            return Response(body(STATE_0207), media_type="application/json")

        async def tariff(request: Request) -> Response:
            if request.path_params["kind"] != "grid":
                return JSONResponse({"error": "tariff not configured"}, status_code=404)
            return Response(body(TARIFF_GRID), media_type="application/json")

        async def mode(request: Request) -> Response:
            value = request.path_params["mode"]
            if value not in ("off", "pv", "minpv", "now", "smart"):
                return JSONResponse({"error": f"invalid charge mode: {value}"}, status_code=400)
            return JSONResponse({"result": value})  # evcc before 0.207 wrapped answers

        async def plan_strategy(request: Request) -> Response:
            return JSONResponse(await request.json())

        async def smartcost(_: Request) -> Response:
            return JSONResponse(None)

        async def batterymode(_: Request) -> Response:
            return PlainTextResponse("boom", status_code=500)

        return Starlette(routes=[
            Route("/api/auth/login", login, methods=["POST"]),
            Route("/api/state", guarded(state)),
            Route("/api/tariff/{kind}", guarded(tariff)),
            Route("/api/loadpoints/{id}/mode/{mode}", guarded(mode), methods=["POST"]),
            Route("/api/loadpoints/{id}/plan/strategy", guarded(plan_strategy), methods=["POST"]),
            Route("/api/loadpoints/{id}/smartcostlimit", guarded(smartcost), methods=["DELETE"]),
            Route("/api/batterymode/{mode}", guarded(batterymode), methods=["POST"]),
        ])  # fmt: skip


@pytest.fixture
def fake() -> FakeEvcc:
    return FakeEvcc()


@pytest.fixture
async def url(fake: FakeEvcc) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(fake.app(), lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0)  # a yield to the loop, not a wait
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    fake.released.set()
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
def logs() -> AsyncIterator[list[str]]:
    lines: list[str] = []
    handler = logger.add(lambda message: lines.append(message.record["message"]), level=0)
    yield lines  # type: ignore[misc]
    logger.remove(handler)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert not any(secret in text for secret in SECRETS), text


async def test_public_state_and_tariffs(url: str, fake: FakeEvcc) -> None:
    async with EvccClient(url, timeout_s=5) as evcc:
        assert await evcc.get_state() == body(STATE_0207)
        grid = await evcc.get_tariff("grid")
        assert grid is not None and len(parse_tariff(grid)) == 24
        assert await evcc.get_tariff("feedin") is None
        with pytest.raises(ValueError, match="unknown tariff 'gas'"):
            await evcc.get_tariff("gas")
    assert fake.seen == [("GET", "/api/state", None), ("GET", "/api/tariff/grid", None),
                         ("GET", "/api/tariff/feedin", None)]  # fmt: skip


async def test_password_logs_in_lazily_once_and_sends_the_cookie(
    url: str, fake: FakeEvcc, logs: list[str]
) -> None:
    fake.protected = True
    async with EvccClient(url, timeout_s=5, password=PASSWORD) as evcc:
        assert fake.seen == []
        await evcc.get_state()
        await evcc.get_state()
    assert fake.seen == [("POST", "/api/auth/login", None), ("GET", "/api/state", "jwt-1"),
                         ("GET", "/api/state", "jwt-1")]  # fmt: skip
    assert_no_secret(*logs)


async def test_a_401_logs_in_again_once(url: str, fake: FakeEvcc, logs: list[str]) -> None:
    fake.protected = True
    async with EvccClient(url, timeout_s=5, password=PASSWORD) as evcc:
        await evcc.get_state()
        fake.tokens.clear()  # evcc restarted: the old cookie is no longer valid
        assert await evcc.get_state() == body(STATE_0207)
    assert fake.seen == [
        ("POST", "/api/auth/login", None), ("GET", "/api/state", "jwt-1"),
        ("GET", "/api/state", "jwt-1"), ("POST", "/api/auth/login", None), ("GET", "/api/state", "jwt-2"),
    ]  # fmt: skip
    assert "evcc answered 401 to GET /api/state; logging in again" in logs
    assert_no_secret(*logs)


async def test_a_second_401_is_an_auth_failure(url: str, fake: FakeEvcc, logs: list[str]) -> None:
    fake.protected = fake.reject_all = True
    async with EvccClient(url, timeout_s=5, password=PASSWORD) as evcc:
        with pytest.raises(EvccUnavailable) as caught:
            await evcc.get_state()
    assert (caught.value.kind, caught.value.message) == (
        "auth", "GET /api/state: HTTP 401 (even after logging in again)")
    assert [seen[:2] for seen in fake.seen] == [("POST", "/api/auth/login"), ("GET", "/api/state"),
                                                ("POST", "/api/auth/login"), ("GET", "/api/state")]  # fmt: skip
    assert_no_secret(str(caught.value), *logs)


async def test_a_wrong_password_is_an_auth_failure_only_where_evcc_wants_a_login(url: str, fake: FakeEvcc) -> None:
    fake.protected = True
    async with EvccClient(url, timeout_s=5, password="wrong-" + PASSWORD) as evcc:
        with pytest.raises(EvccUnavailable) as caught:
            await evcc.get_state()
    assert (caught.value.kind, str(caught.value)) == (
        "auth", "GET /api/state: HTTP 401 (evcc wants a login and refused evcc.password (HTTP 401))")


@pytest.mark.parametrize(("demo", "status", "why"),
                         [(False, 401, "wrong password?"), (True, 403, "evcc in demo mode?")])
async def test_a_refused_login_is_one_warning_and_smartload_goes_on_without_it(
        url: str, fake: FakeEvcc, logs: list[str], demo: bool, status: int, why: str) -> None:
    """A real evcc serves its state and the loadpoint and battery writes without a login
    (a password guards only its configuration): a refused login must not look like an
    unreachable evcc."""
    fake.demo = demo
    async with EvccClient(url, timeout_s=5, password="wrong-" + PASSWORD) as evcc:
        assert await evcc.get_state() == body(STATE_0207)
        assert await evcc.post("/api/loadpoints/1/mode/now") == "now"
        await evcc.get_state()
    assert [seen[:2] for seen in fake.seen] == [("POST", "/api/auth/login"), ("GET", "/api/state"),
                                                ("POST", "/api/loadpoints/1/mode/now"), ("GET", "/api/state")]
    warnings = [line for line in logs if "evcc refused the login" in line]
    assert warnings == [f"evcc refused the login with evcc.password (HTTP {status}: {why}); smartload goes on without "
                        "it: evcc serves its state and the loadpoint and battery settings without a login"]


async def test_api_key_is_sent_as_bearer(url: str, fake: FakeEvcc) -> None:
    fake.protected = True
    async with EvccClient(url, timeout_s=5, api_key=API_KEY) as evcc:
        await evcc.get_state()
    async with EvccClient(url, timeout_s=5, api_key="evcc_wrong") as evcc:
        with pytest.raises(EvccUnavailable) as wrong:
            await evcc.get_state()
    async with EvccClient(url, timeout_s=5) as evcc:
        with pytest.raises(EvccUnavailable) as none:
            await evcc.get_state()
    assert fake.seen[0] == ("GET", "/api/state", f"Bearer {API_KEY}")
    assert (wrong.value.kind, wrong.value.message) == ("auth", "GET /api/state: HTTP 401 (API key rejected)")
    assert none.value.message == "GET /api/state: HTTP 401 (evcc wants a login: set evcc.password or evcc.api_key)"
    assert len(fake.seen) == 3  # no login attempts without a password


async def test_writes_return_evccs_answer(url: str, fake: FakeEvcc) -> None:
    async with EvccClient(url, timeout_s=5) as evcc:
        assert await evcc.post("/api/loadpoints/1/mode/now") == "now"
        strategy = {"continuous": True, "precondition": 3600}
        assert await evcc.post("api/loadpoints/2/plan/strategy", json_body=strategy) == strategy
        assert await evcc.delete("/api/loadpoints/1/smartcostlimit") is None
    assert fake.seen == [("POST", "/api/loadpoints/1/mode/now", None),
                         ("POST", "/api/loadpoints/2/plan/strategy", None),
                         ("DELETE", "/api/loadpoints/1/smartcostlimit", None)]  # fmt: skip
    assert fake.bodies[1] == b'{"continuous":true,"precondition":3600}'


async def test_refused_writes_carry_evccs_error(url: str, fake: FakeEvcc) -> None:
    async with EvccClient(url, timeout_s=5) as evcc:
        with pytest.raises(EvccWriteError) as bad:
            await evcc.post("/api/loadpoints/1/mode/turbo")
        with pytest.raises(EvccWriteError) as broken:
            await evcc.post("/api/batterymode/hold")
    assert (bad.value.status, bad.value.message) == (
        400, "POST /api/loadpoints/1/mode/turbo: HTTP 400 Bad Request: invalid charge mode: turbo"
    )
    assert (broken.value.status, str(broken.value)) == (
        500, "POST /api/batterymode/hold: HTTP 500 Internal Server Error: boom"
    )


async def test_connection_refused_is_connect() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    async with EvccClient(f"http://127.0.0.1:{port}", timeout_s=5, password=PASSWORD) as evcc:
        with pytest.raises(EvccUnavailable) as caught:
            await evcc.get_state()
    assert caught.value.kind == "connect"
    assert caught.value.message.startswith("POST /api/auth/login: ")  # the lazy login went first
    assert_no_secret(caught.value.message)


async def test_no_answer_is_timeout(url: str, fake: FakeEvcc) -> None:
    fake.hang = True
    async with EvccClient(url, timeout_s=0.05) as evcc:
        with pytest.raises(EvccUnavailable) as caught:
            await evcc.get_state()
    assert caught.value.kind == "timeout"
    assert caught.value.message == "GET /api/state: no answer within 0.05 s (ReadTimeout)"


async def test_server_errors_on_reads_are_http() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tariff/grid":
            return httpx.Response(500, json={"result": {"error": "tariff failed"}})  # pre-0.207 wrapper
        return httpx.Response(503, text="")

    async with EvccClient("http://evcc.test", timeout_s=5, transport=httpx.MockTransport(handler)) as evcc:
        with pytest.raises(EvccUnavailable) as state:
            await evcc.get_state()
        with pytest.raises(EvccUnavailable) as tariff:
            await evcc.get_tariff("grid")
    assert (state.value.kind, state.value.message) == ("http", "GET /api/state: HTTP 503 Service Unavailable")
    assert tariff.value.message == "GET /api/tariff/grid: HTTP 500 Internal Server Error: tariff failed"


async def test_forbidden_reads_are_auth_and_forbidden_writes_are_refusals() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "demo mode: locked"})

    async with EvccClient("http://evcc.test", timeout_s=5, transport=httpx.MockTransport(handler)) as evcc:
        with pytest.raises(EvccUnavailable) as read:
            await evcc.get_state()
        with pytest.raises(EvccWriteError) as write:
            await evcc.post("/api/buffersoc/80")
    assert (read.value.kind, read.value.message) == ("auth", "GET /api/state: HTTP 403 Forbidden: demo mode: locked")
    assert write.value.status == 403
    assert write.value.message == "POST /api/buffersoc/80: HTTP 403 Forbidden: demo mode: locked"


@pytest.mark.parametrize(("sim", "status"), [({"admin_password": "the-right-one"}, 401), ({"demo_mode": True}, 403)])
async def test_a_refused_login_at_the_simulated_evcc_still_reads_and_writes(
        sim: dict[str, object], status: int, logs: list[str]) -> None:
    """The simulator answers the login as a real evcc 0.313 does (401 for a wrong password,
    403 in demo mode) and, like it, serves the state and the writes without one."""
    from smartload.evcc.state import parse_state
    from smartload.settings.sim import SimSettings
    from smartload.sim.server import SimServer

    async with SimServer(SimSettings(speed=1, **sim), run_clock=False) as server, \
            EvccClient(server.url, timeout_s=5, password="a-wrong-one") as evcc:
        assert await evcc.post("/api/loadpoints/1/mode/now") == "now"
        state = parse_state(await evcc.get_state(), server.now())
    assert state.loadpoints[0].mode.value == "now"  # type: ignore[union-attr]
    assert [line for line in logs if "evcc refused the login" in line] == [
        f"evcc refused the login with evcc.password (HTTP {status}: "
        f"{'wrong password?' if status == 401 else 'evcc in demo mode?'}); smartload goes on without it: "
        "evcc serves its state and the loadpoint and battery settings without a login"]
    assert not any("a-wrong-one" in line for line in logs)
