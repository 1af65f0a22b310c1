"""hyundai-kia-connect-api against the recorded EU responses (runs where Python >= 3.12)."""

from __future__ import annotations

import copy
import importlib
import logging
import traceback
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from loguru import logger
from pydantic import TypeAdapter, ValidationError

from smartload.settings.providers import HyundaiKiaSettings
from smartload.vehicles.base import ProviderError
from smartload.vehicles.hyundai_kia import HyundaiKiaProvider, build
from tests.vehicles.fakecloud import FakeCloud, Hit, Reply, fixture_json, json_reply

connect = pytest.importorskip(
    "hyundai_kia_connect_api", reason="hyundai-kia-connect-api needs Python >= 3.12 (extra 'kia')"
)

BERLIN = ZoneInfo("Europe/Berlin")
PASSWORD, PIN = "kia-pa55word-never-shown", "4321"
FIRST_TOKEN, NEW_TOKEN = "Bearer first-ccs-token", "Bearer ccs-token"
REFRESH_TOKEN = "CCIREFRESHTOKEN1234567890123456789012345678901234567890"
SECRETS = (PASSWORD, PIN, FIRST_TOKEN.split()[1], REFRESH_TOKEN, "cci-access")
CAR = "00000000-0000-0000-0000-000000000001"
SPA = "/api/v1/spa"
VEHICLES, LATEST = f"GET {SPA}/vehicles", f"GET {SPA}/vehicles/{CAR}/ccs2/carstatus/latest"
PARK, DRV, WAKE = f"GET {SPA}/vehicles/{CAR}/location/park", f"POST {SPA}/vehicles/{CAR}/drvhistory", \
    f"GET {SPA}/vehicles/{CAR}/ccs2/carstatus"
CACHED = [LATEST, PARK, DRV, DRV]
NO_DATA = Reply(404, {"retCode": "F", "resCode": "5921", "resMsg": "No Data Found v2 - No Data Found v2"})
# Not recorded: an empty success, so the library makes both of its driving-history calls.
NO_HISTORY = Reply(200, {"retCode": "S", "resCode": "0000", "resMsg": {}})


def ccs2_latest(at: datetime, soc: int) -> dict:
    body = copy.deepcopy(fixture_json("hyundai_kia/eu_ccs2_carstatus_latest.ev3_DERIVED.json"))
    vehicle = body["resMsg"]["state"]["Vehicle"]
    vehicle["Date"] = at.astimezone(UTC).strftime("%Y%m%d%H%M%S.000")
    vehicle["Green"]["BatteryManagement"]["BatteryRemain"]["Ratio"] = soc
    return body


class KiaCloud:
    """The EU SPA API and the CCI token endpoints, replayed; checks the bearer token."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud
        self.valid_tokens = {FIRST_TOKEN}
        cloud.route("GET", f"{SPA}/vehicles", self._authorised(json_reply("hyundai_kia/eu_vehicles_HANDMADE.json")))
        cloud.route("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus/latest",
                    self._authorised(json_reply("hyundai_kia/eu_ccs2_carstatus_latest.ev3_DERIVED.json")))
        cloud.route("GET", f"{SPA}/vehicles/[^/]+/status/latest",
                    self._authorised(json_reply("hyundai_kia/eu_legacy_status_latest.ev6_DERIVED.json")))
        cloud.route("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus",
                    self._authorised(json_reply("hyundai_kia/eu_ccs2_carstatus_wake_ack_DERIVED.json")))
        cloud.route("GET", f"{SPA}/vehicles/[^/]+/location/park", NO_DATA)
        cloud.route("POST", f"{SPA}/vehicles/[^/]+/drvhistory", NO_HISTORY)
        cloud.route("POST", "/cci/auth/v2/token-refresh", json_reply("hyundai_kia/eu_cci_auth_token_DERIVED.json"))
        cloud.route("POST", "/cci/auth/v1/token-exchange", self._exchange)

    def _authorised(self, reply: Reply):
        def answer(hit: Hit) -> Reply:
            if hit.headers.get("authorization") not in self.valid_tokens:
                return Reply(401, {"error": "Key not authorized: Token is expired"})
            return reply
        return answer

    def _exchange(self, hit: Hit) -> Reply:
        assert hit.query == {"serviceType": ["CCS"]}
        self.valid_tokens = {NEW_TOKEN}
        return json_reply("hyundai_kia/eu_cci_auth_token-exchange_DERIVED.json")

    def urls(self) -> dict[str, str]:
        base = self.cloud.base_url
        return {
            "BASE_URL": base.removeprefix("http://"),
            "USER_API_URL": f"{base}/api/v1/user/",
            "SPA_API_URL": f"{base}{SPA}/",
            "SPA_API_URL_V2": f"{base}/api/v2/spa/",
            "LOGIN_FORM_HOST": f"{base}/idp",
            "CCI_API_URL": f"{base}/cci",
        }

    def cached_state(self, at: datetime, soc: int) -> None:
        reply = self._authorised(Reply(body=ccs2_latest(at, soc)))
        self.cloud.route("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus/latest", reply)


def token() -> object:
    return connect.Token(
        username="me@example.com", password=PASSWORD, access_token=FIRST_TOKEN,
        refresh_token=REFRESH_TOKEN, device_id="device-1",
        valid_until=datetime.now(UTC) + timedelta(days=1), pin=PIN, cci_access_token="cci-access",
        exchangeable_token="exch-at", exchangeable_refresh_token="exch-rt", non_ccs_token="nonccs",
        non_ccs_refresh_token="nonccs-rt", id_token="id-tok",
    )


def settings(**fields: object) -> HyundaiKiaSettings:
    return TypeAdapter(HyundaiKiaSettings).validate_python(
        {"type": "kia", "username": "me@example.com", "password": PASSWORD, "pin": PIN, **fields}
    )


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The library's 25 s wait after waking the car, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(importlib.import_module("hyundai_kia_connect_api.KiaUvoApiEU"), "sleep", slept.append)
    return slept


@pytest.fixture
async def kia(cloud: FakeCloud, waits: list[float]) -> KiaCloud:
    return KiaCloud(cloud)


def provider(kia: KiaCloud, clock, vehicle: str = "ev3", **fields: object) -> HyundaiKiaProvider:
    return build(vehicle, settings(**fields), tz=BERLIN, clock=clock, api_urls=kia.urls(), token=token())


@pytest.mark.parametrize("brand", ["kia", "hyundai"])
async def test_fresh_cached_state_needs_no_wake_up(kia: KiaCloud, cloud: FakeCloud, clock, brand: str) -> None:
    measured = (clock.now - timedelta(minutes=20)).replace(microsecond=0)
    kia.cached_state(measured, 80)
    ev3 = provider(kia, clock, type=brand)

    reading = await ev3.fetch("ev3")

    assert (reading.vehicle, reading.soc_pct, reading.source) == ("ev3", 80.0, brand)
    assert (reading.measured_at, reading.received_at, reading.measured_at_known) == (measured, clock.now, True)
    assert cloud.paths() == [VEHICLES, *CACHED]
    assert cloud.hits[1].headers["ccsp-device-id"] == "device-1"


async def test_stale_cached_state_wakes_the_car_once(kia: KiaCloud, cloud: FakeCloud, clock, waits) -> None:
    # The recorded EV3 state dates from 2025-04-20 20:27:23 UTC: six weeks old.
    ev3 = provider(kia, clock)
    fresh = (clock.now - timedelta(seconds=10)).replace(microsecond=0)
    cloud.push("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus/latest",
               json_reply("hyundai_kia/eu_ccs2_carstatus_latest.ev3_DERIVED.json"), Reply(body=ccs2_latest(fresh, 81)))

    reading = await ev3.fetch("ev3")

    assert (reading.soc_pct, reading.measured_at) == (81.0, fresh)
    assert cloud.paths() == [VEHICLES, *CACHED, WAKE, LATEST, PARK, DRV, DRV]
    assert waits == [25]
    assert (ev3.cached_budget.calls_today, ev3.forced_budget.calls_today) == (1, 1)


async def test_stale_at_night_answers_the_stale_reading_without_waking(kia: KiaCloud, cloud: FakeCloud, clock) -> None:
    clock.now = datetime(2025, 6, 2, 21, 30, tzinfo=UTC)  # 23:30 in Berlin
    ev3 = provider(kia, clock)

    reading = await ev3.fetch("ev3")

    assert (reading.soc_pct, reading.measured_at) == (80.0, datetime(2025, 4, 20, 20, 27, 23, tzinfo=UTC))
    assert cloud.count("GET", f"{SPA}/vehicles/{CAR}/ccs2/carstatus") == 0


async def test_legacy_status_time_is_berlin_local(cloud: FakeCloud, kia: KiaCloud, clock) -> None:
    vehicles = fixture_json("hyundai_kia/eu_vehicles_HANDMADE.json")
    vehicles["resMsg"]["vehicles"][0]["ccuCCS2ProtocolSupport"] = 0
    cloud.route("GET", f"{SPA}/vehicles", Reply(body=vehicles))
    ev6 = provider(kia, clock, forced={"enabled": False})

    reading = await ev6.fetch("ev3")

    assert (reading.soc_pct, reading.measured_at) == (76.0, datetime(2024, 7, 20, 10, 0, tzinfo=UTC))
    assert cloud.paths()[1] == f"GET {SPA}/vehicles/{CAR}/status/latest"


async def test_401_refreshes_the_token_once_and_retries(kia: KiaCloud, cloud: FakeCloud, clock) -> None:
    kia.cached_state(clock.now - timedelta(minutes=5), 64)
    ev3 = provider(kia, clock)
    await ev3.fetch("ev3")
    kia.valid_tokens = set()  # the cloud revoked the bearer token
    clock.advance(minutes=30)

    reading = await ev3.fetch("ev3")

    assert reading.soc_pct == 64.0
    assert cloud.paths()[5:] == [LATEST, "POST /cci/auth/v2/token-refresh", "POST /cci/auth/v1/token-exchange", *CACHED]
    assert cloud.hits[-4].headers["authorization"] == NEW_TOKEN


async def test_rate_limit_5091_stops_every_call_until_midnight(kia: KiaCloud, cloud: FakeCloud, clock) -> None:
    ev3 = provider(kia, clock)
    cloud.push("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus/latest",
               json_reply("hyundai_kia/eu_error_5091_rate_limit_DERIVED.json", 509))

    with pytest.raises(ProviderError) as limited:
        await ev3.fetch("ev3")
    assert str(limited.value) == "kia: daily request limit reached (5091)"
    assert limited.value.retry_after_s == 14 * 3600  # 10:00 in Berlin

    clock.advance(hours=13, minutes=59)
    with pytest.raises(ProviderError, match=r"^budget: kia ev3 cached backing off for 60 s"):
        await ev3.fetch("ev3")
    assert cloud.count() == 2
    clock.advance(minutes=1)
    assert ev3.forced_budget.refusal() is None and ev3.cached_budget.refusal() is None


async def test_429_without_envelope_honours_retry_after(kia: KiaCloud, cloud: FakeCloud, clock) -> None:
    ev3 = provider(kia, clock)
    cloud.push("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus/latest", Reply(429, "slow down", {"Retry-After": "900"}))

    with pytest.raises(ProviderError) as limited:
        await ev3.fetch("ev3")

    assert (str(limited.value), limited.value.retry_after_s) == ("kia: HTTP 429", 900)


async def test_timeout(kia: KiaCloud, cloud: FakeCloud, clock) -> None:
    ev3 = provider(kia, clock, request_timeout="0.3s")
    cloud.push("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus/latest", Reply(hang=True))

    with pytest.raises(ProviderError, match=r"^kia: no answer in time \(RequestTimeoutError: ") as failed:
        await ev3.fetch("ev3")
    assert failed.value.retry_after_s == 300


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(200, b"<html>maintenance</html>"), "kia: unexpected reply (JSONDecodeError: "),
        (Reply(502, b"<html>bad gateway</html>"), "kia: HTTP 502"),
        (Reply(200, {"retCode": "S", "resCode": "0000", "resMsg": {}}), "kia: unexpected reply (KeyError: 'state')"),
    ],
)
async def test_malformed_replies_back_off(kia: KiaCloud, cloud: FakeCloud, clock, reply: Reply, message: str) -> None:
    ev3 = provider(kia, clock)
    cloud.push("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus/latest", reply)
    with pytest.raises(ProviderError) as failed:
        await ev3.fetch("ev3")
    assert str(failed.value).startswith(message)
    assert failed.value.retry_after_s == 300


async def test_wake_failure_still_answers_the_cached_reading(kia: KiaCloud, cloud: FakeCloud, clock) -> None:
    ev3 = provider(kia, clock)
    cloud.push("GET", f"{SPA}/vehicles/[^/]+/ccs2/carstatus", Reply(503, b"busy"))

    reading = await ev3.fetch("ev3")

    assert (reading.soc_pct, reading.measured_at) == (80.0, datetime(2025, 4, 20, 20, 27, 23, tzinfo=UTC))
    assert ev3.forced_budget.refusal().reason == "backoff"  # type: ignore[union-attr]
    assert ev3.forced_budget.blocked_until == clock.now + timedelta(minutes=30)


async def test_no_credential_in_any_log_through_a_token_refresh(kia: KiaCloud, cloud: FakeCloud, clock,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lines: list[str] = []
    sink = logger.add(lines.append, level="TRACE", format="{message}")
    try:
        ev3 = provider(kia, clock)
        await ev3.fetch("ev3")
        kia.valid_tokens = set()
        clock.advance(hours=1)
        await ev3.fetch("ev3")
    finally:
        logger.remove(sink)
    assert lines == ["ev3: token rejected, logging in again\n"]
    assert cloud.count("POST", "/cci/auth/v1/token-exchange") == 1
    for secret in (*SECRETS, NEW_TOKEN.split()[1]):
        assert secret not in caplog.text + repr(ev3) + repr(settings()) + str(settings().model_dump())


async def test_a_reply_quoting_a_credential_is_masked_in_the_error(kia: KiaCloud, cloud: FakeCloud, clock) -> None:
    ev3 = provider(kia, clock)
    await ev3.fetch("ev3")
    kia.valid_tokens = set()
    clock.advance(hours=1)
    # The token refresh fails with a reply quoting the password; the full login that the
    # library falls back to finds no login pages here and fails too.
    cloud.route("POST", "/cci/auth/v2/token-refresh", Reply(401, f"bad credentials {PASSWORD} / {PIN}"))

    with pytest.raises(ProviderError) as failed:
        await ev3.fetch("ev3")

    assert str(failed.value).startswith("kia: ")
    assert failed.value.retry_after_s == 12 * 3600
    shown = "".join(traceback.format_exception(failed.value)) + repr(failed.value)
    for secret in SECRETS:
        assert secret not in shown


def outcome(error: ProviderError) -> str:
    text = str(error)
    for fragment, label in (("minimum interval", "min"), ("calls for today", "day"), ("backing off", "backoff")):
        if text.startswith("budget: ") and fragment in text:
            return label
    return text


async def test_day_of_30_plug_ins_of_three_cars_stays_within_both_budgets(kia: KiaCloud, cloud: FakeCloud,
                                                                           clock, waits) -> None:
    """Every plug-in asks its provider at once; the providers' budgets decide what reaches
    the cloud. Budgets: cached 5/day, 30 min apart; forced 4/day, 1 h apart, never
    22:00-06:00. The cloud's state is six weeks old all day, so each read wants a wake-up."""
    budgets = {"cached": {"daily_limit": 5, "min_interval": "30m"},
               "forced": {"budget": {"daily_limit": 4, "min_interval": "1h"}}}
    cars = {name: provider(kia, clock, vehicle=name, **budgets) for name in ("ev3", "niro", "kona")}
    day = datetime(2025, 6, 2, 4, 0, tzinfo=UTC)  # 06:00 in Berlin
    # 06:00 06:10 06:40 07:15 07:20 09:20 09:30 22:30 23:40 00:20(next day)
    minutes = [0, 10, 40, 75, 80, 200, 210, 990, 1060, 1100]
    outcomes: dict[str, list[str]] = {name: [] for name in cars}
    for minute in minutes:
        for name, car in cars.items():
            clock.now = day + timedelta(minutes=minute)
            try:
                outcomes[name].append("stale" if (await car.fetch(name)).age_s(clock.now) > 86400 else "fresh")
            except ProviderError as exc:
                outcomes[name].append(outcome(exc))

    # Cached reads at 0, 40, 75, 200, 990 (5/day), then 00:20 on the next day; wake-ups at
    # 0, 75, 200 (40 is < 1 h after 0; 990, 1060 and 1100 fall in the quiet hours).
    expected = ["stale", "min", "stale", "stale", "min", "stale", "min", "stale", "day", "stale"]
    assert outcomes == {name: expected for name in cars}
    assert cloud.count("GET", f"{SPA}/vehicles") == 3
    assert cloud.count("GET", f"{SPA}/vehicles/{CAR}/ccs2/carstatus/latest") == 3 * (6 + 3)
    assert cloud.count("GET", f"{SPA}/vehicles/{CAR}/ccs2/carstatus") == 3 * 3
    assert len(waits) == 9
    assert {name: (c.cached_budget.calls_total, c.forced_budget.calls_total) for name, c in cars.items()} == {
        name: (6, 3) for name in cars}


def test_settings_missing_password_and_bad_type() -> None:
    adapter = TypeAdapter(HyundaiKiaSettings)
    with pytest.raises(ValidationError) as missing:
        adapter.validate_python({"type": "hyundai", "username": "me@example.com"})
    assert [(e["loc"], e["type"]) for e in missing.value.errors()] == [(("password",), "missing")]
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "genesis", "username": "u", "password": "p"})
    quiet = settings(forced=yaml.safe_load("quiet_start: 22:30\nquiet_end: 05:30")).forced
    assert (quiet.quiet_start, quiet.quiet_end) == (time(22, 30), time(5, 30))
    assert [quiet.quiet(time(h, m)) for h, m in ((22, 29), (22, 30), (3, 0), (5, 29), (5, 30))] == [
        False, True, True, True, False]
