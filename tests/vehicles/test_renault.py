from __future__ import annotations

import logging
import time
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest
from loguru import logger
from pydantic import TypeAdapter, ValidationError

from smartload.settings.providers import RenaultSettings
from smartload.vehicles.base import ProviderError, ProviderUnsupported
from smartload.vehicles.renault import RenaultProvider, build
from tests.vehicles.fakecloud import FakeCloud, Hit, Reply, fixture_json, json_reply

BERLIN = ZoneInfo("Europe/Berlin")
PASSWORD = "Zoe-pa55word-never-shown"
LOGIN_TOKEN = "sample-cookie-value"
VIN = "VF1AAAAA555777999"
ACCOUNT = "/kamereon/commerce/v1/accounts/account-id-1"
BATTERY = f"{ACCOUNT}/kamereon/kca/car-adapter/v2/cars/{VIN}/battery-status"
LOGIN, JWT, INFO = "POST /gigya/accounts.login", "POST /gigya/accounts.getJWT", "POST /gigya/accounts.getAccountInfo"
PERSON, VEHICLES = "GET /kamereon/commerce/v1/persons/person-id-1", f"GET {ACCOUNT}/vehicles"
READ = f"GET {BATTERY}"
FIRST_FETCH = [LOGIN, JWT, INFO, PERSON, VEHICLES, READ]


class RenaultCloud:
    """Gigya and Kamereon replayed from the recorded responses, with a real HS256 JWT."""

    def __init__(self, cloud: FakeCloud, jwt_ttl_s: int = 3600) -> None:
        self.cloud = cloud
        self.jwt_ttl_s = jwt_ttl_s
        self.issued: list[str] = []
        cloud.route("POST", "/gigya/accounts.login", self._login)
        cloud.route("POST", "/gigya/accounts.getJWT", self._jwt)
        cloud.route("POST", "/gigya/accounts.getAccountInfo", json_reply("renault/gigya_accounts.getAccountInfo.json"))
        cloud.route("GET", "/kamereon/commerce/v1/persons/person-id-1", json_reply("renault/kamereon_persons.json"))
        cloud.route("GET", f"{ACCOUNT}/vehicles", json_reply("renault/kamereon_account_vehicles.zoe_50.json"))
        cloud.route("GET", BATTERY, self._battery)

    def locale_details(self) -> dict[str, str]:
        base = self.cloud.base_url
        return {
            "gigya-root-url": f"{base}/gigya",
            "gigya-api-key": "gigya-key",
            "kamereon-root-url": f"{base}/kamereon",
            "kamereon-api-key": "kamereon-key",
        }

    def _login(self, hit: Hit) -> Reply:
        form = hit.form()
        if form.get("loginID") == ["me@example.com"] and form.get("password") == [PASSWORD]:
            return json_reply("renault/gigya_accounts.login.json")
        return json_reply("renault/gigya_error_login.403042_invalid_login.json")

    def _jwt(self, hit: Hit) -> Reply:
        assert hit.form()["login_token"] == [LOGIN_TOKEN]
        claims = {"exp": int(time.time()) + self.jwt_ttl_s, "sub": "person-id-1"}
        token = jwt.encode(claims, "replay-server-signing-key-32-bytes!", algorithm="HS256")
        self.issued.append(token)
        return Reply(body={**fixture_json("renault/gigya_accounts.getJWT.json"), "id_token": token})

    def _battery(self, hit: Hit) -> Reply:
        assert hit.query == {"country": ["FR"]}
        assert hit.headers["apikey"] == "kamereon-key"
        if hit.headers.get("x-gigya-id_token") not in self.issued:
            return json_reply("renault/kamereon_error_unauthorized.json", 401)
        return json_reply("renault/kamereon_battery-status.zoe_charging.json")


def settings(**fields: object) -> RenaultSettings:
    return TypeAdapter(RenaultSettings).validate_python(
        {"type": "renault", "username": "me@example.com", "password": PASSWORD, **fields}
    )


@pytest.fixture
async def renault(cloud: FakeCloud) -> RenaultCloud:
    return RenaultCloud(cloud)


@pytest.fixture
async def zoe(renault: RenaultCloud, clock) -> AsyncIterator[RenaultProvider]:
    provider = build("zoe", settings(), tz=BERLIN, clock=clock, locale_details=renault.locale_details())
    yield provider
    await provider.aclose()


def assert_no_secret(error: BaseException, *extra: str) -> None:
    text = "".join(traceback.format_exception(error)) + repr(error)
    for secret in (PASSWORD, LOGIN_TOKEN, *extra):
        assert secret not in text


async def test_first_fetch_logs_in_then_one_call_per_refresh(zoe: RenaultProvider, cloud: FakeCloud, clock) -> None:
    reading = await zoe.fetch("zoe")

    assert (reading.vehicle, reading.soc_pct, reading.source) == ("zoe", 60.0, "renault")
    assert reading.measured_at == datetime(2020, 1, 12, 21, 40, 16, tzinfo=UTC)
    assert (reading.received_at, reading.measured_at_known) == (clock.now, True)
    assert cloud.paths() == FIRST_FETCH

    clock.advance(minutes=5)
    await zoe.fetch("zoe")
    assert cloud.paths() == [*FIRST_FETCH, READ]


async def test_stale_reading_keeps_the_cars_timestamp_with_offset(zoe: RenaultProvider, cloud: FakeCloud,
                                                                   clock) -> None:
    cloud.push("GET", BATTERY, json_reply("renault/kamereon_battery-status.zoe_unplugged.json"))

    reading = await zoe.fetch("zoe")

    assert reading.soc_pct == 50.0
    assert reading.measured_at == datetime(2020, 11, 17, 8, 6, 48, tzinfo=UTC)
    assert reading.age_s(clock.now) == (clock.now - datetime(2020, 11, 17, 8, 6, 48, tzinfo=UTC)).total_seconds()


async def test_401_logs_in_once_more_and_retries(zoe: RenaultProvider, cloud: FakeCloud, clock) -> None:
    await zoe.fetch("zoe")
    clock.advance(minutes=5)
    cloud.push("GET", BATTERY, json_reply("renault/kamereon_error_unauthorized.json", 401))

    reading = await zoe.fetch("zoe")

    assert reading.soc_pct == 60.0
    assert cloud.paths() == [*FIRST_FETCH, READ, LOGIN, JWT, READ]


async def test_expired_login_token_on_get_jwt_logs_in_again(cloud: FakeCloud, renault: RenaultCloud, clock) -> None:
    renault.jwt_ttl_s = 30  # within renault-api's 60 s skew margin: every call mints a new JWT
    provider = build("zoe", settings(), tz=BERLIN, clock=clock, locale_details=renault.locale_details())
    await provider.fetch("zoe")
    clock.advance(minutes=5)
    cloud.push("POST", "/gigya/accounts.getJWT", json_reply("renault/gigya_error_getJWT.403005_unauthorized_user.json"))

    reading = await provider.fetch("zoe")

    assert reading.soc_pct == 60.0
    assert cloud.paths()[-4:] == [JWT, LOGIN, JWT, READ]
    await provider.aclose()


async def test_rejected_again_after_relogin_fails_with_long_backoff(zoe: RenaultProvider, cloud: FakeCloud) -> None:
    cloud.route("GET", BATTERY, json_reply("renault/kamereon_error_unauthorized.json", 401))

    with pytest.raises(ProviderError) as failed:
        await zoe.fetch("zoe")

    assert str(failed.value) == "renault: credentials rejected again right after a new login"
    assert failed.value.retry_after_s == 6 * 3600
    assert cloud.paths() == [*FIRST_FETCH, LOGIN, JWT, READ]
    assert_no_secret(failed.value)


async def test_wrong_password_is_not_retried_soon_and_not_shown(cloud: FakeCloud, renault: RenaultCloud, clock) -> None:
    wrong = "wrong-password-xyz"
    provider = build("zoe", settings(password=wrong), tz=BERLIN, clock=clock, locale_details=renault.locale_details())

    with pytest.raises(ProviderError) as failed:
        await provider.fetch("zoe")

    assert str(failed.value) == "renault: login rejected: check username and password"
    assert failed.value.retry_after_s == 6 * 3600
    assert cloud.paths() == [LOGIN]
    assert_no_secret(failed.value, wrong)
    await provider.aclose()


async def test_quota_limit_pauses_15_minutes_without_calls(zoe: RenaultProvider, cloud: FakeCloud, clock) -> None:
    cloud.push("GET", BATTERY, json_reply("renault/kamereon_error_quota_limit.json", 429))

    with pytest.raises(ProviderError) as limited:
        await zoe.fetch("zoe")
    assert (str(limited.value), limited.value.retry_after_s) == ("renault: quota limit reached", 900)

    clock.advance(minutes=14)
    with pytest.raises(ProviderError, match=r"^budget: renault zoe backing off for 60 s"):
        await zoe.fetch("zoe")
    assert cloud.count("GET", BATTERY) == 1
    clock.advance(minutes=1)
    assert (await zoe.fetch("zoe")).soc_pct == 60.0
    assert cloud.count("GET", BATTERY) == 2


async def test_timeout(cloud: FakeCloud, renault: RenaultCloud, clock) -> None:
    provider = build("zoe", settings(request_timeout="0.3s"), tz=BERLIN, clock=clock,
                     locale_details=renault.locale_details())
    cloud.push("GET", BATTERY, Reply(hang=True))

    with pytest.raises(ProviderError) as failed:
        await provider.fetch("zoe")

    assert (str(failed.value), failed.value.retry_after_s) == ("renault: no answer within 0.3 s", 120)
    await provider.aclose()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (json_reply("renault/kamereon_error_bad_gateway.html", 502), "renault: HTTP 502"),
        (Reply(200, b"not json"), "renault: Kamereon error Invalid JSON: not json"),
        (Reply(200, {"data": {"type": "Car", "id": VIN, "attributes": {"plugStatus": 1}}}),
         "renault: battery-status has no batteryLevel"),
        (json_reply("renault/kamereon_error_invalid_upstream.json", 500),
         "renault: Kamereon error err.tech.500: Invalid response from the upstream server "
         "(The request sent to the GDC is erroneous) ; 502 Bad Gateway"),
    ],
)
async def test_malformed_or_failed_replies_back_off(zoe: RenaultProvider, cloud: FakeCloud, reply: Reply,
                                                    message: str) -> None:
    cloud.push("GET", BATTERY, reply)
    with pytest.raises(ProviderError) as failed:
        await zoe.fetch("zoe")
    assert (str(failed.value), failed.value.retry_after_s) == (message, 120)


async def test_plain_429_honours_retry_after(zoe: RenaultProvider, cloud: FakeCloud) -> None:
    cloud.push("GET", BATTERY, Reply(429, b"Too Many Requests", {"Retry-After": "1200"}))
    with pytest.raises(ProviderError) as limited:
        await zoe.fetch("zoe")
    assert (str(limited.value), limited.value.retry_after_s) == ("renault: HTTP 429", 1200)


async def test_access_denied_means_unsupported(zoe: RenaultProvider, cloud: FakeCloud) -> None:
    cloud.push("GET", BATTERY, json_reply("renault/kamereon_error_access_denied.json", 403))
    with pytest.raises(ProviderUnsupported, match="not available for this car"):
        await zoe.fetch("zoe")


async def test_unknown_vin_is_unsupported(cloud: FakeCloud, renault: RenaultCloud, clock) -> None:
    provider = build("zoe", settings(vin="VF1XXXXXXXXXXXXXX"), tz=BERLIN, clock=clock,
                     locale_details=renault.locale_details())
    with pytest.raises(ProviderUnsupported, match="no car with VIN VF1XXXXXXXXXXXXXX"):
        await provider.fetch("zoe")
    await provider.aclose()


async def test_no_credential_in_logs_reprs_or_errors(zoe: RenaultProvider, cloud: FakeCloud, renault: RenaultCloud,
                                                     clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lines: list[str] = []
    sink = logger.add(lines.append, level="TRACE", format="{message}")
    try:
        await zoe.fetch("zoe")
        clock.advance(minutes=5)
        cloud.push("GET", BATTERY, json_reply("renault/kamereon_error_unauthorized.json", 401))
        await zoe.fetch("zoe")
        clock.advance(minutes=5)
        cloud.push("GET", BATTERY, json_reply("renault/kamereon_error_quota_limit.json", 429))
        with pytest.raises(ProviderError) as failed:
            await zoe.fetch("zoe")
    finally:
        logger.remove(sink)
    assert lines == ["renault zoe: session rejected, logging in again\n",
                     "renault zoe: account quota reached, pausing\n"]
    shown = "".join(lines) + caplog.text + repr(zoe) + repr(settings()) + str(settings().model_dump())
    for secret in (PASSWORD, LOGIN_TOKEN, *renault.issued):
        assert secret not in shown
    assert_no_secret(failed.value, *renault.issued)


def test_settings_require_the_password_and_a_long_enough_cooldown() -> None:
    with pytest.raises(ValidationError) as missing:
        TypeAdapter(RenaultSettings).validate_python({"type": "renault", "username": "me@example.com"})
    assert [(e["loc"], e["type"]) for e in missing.value.errors()] == [(("password",), "missing")]
    with pytest.raises(ValidationError, match="at least 15m"):
        settings(quota_cooldown="5m")
    assert settings(budget={"daily_limit": 10, "min_interval": "10m"}).budget.min_interval == timedelta(minutes=10)
