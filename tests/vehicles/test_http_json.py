from __future__ import annotations

import traceback
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from smartload.settings.providers import HttpJsonSettings
from smartload.vehicles.base import ProviderError, ProviderUnsupported
from smartload.vehicles.http_json import build, extract, parse_timestamp
from tests.vehicles.fakecloud import FakeCloud, Reply

BERLIN = ZoneInfo("Europe/Berlin")
TOKEN = "ha-long-lived-token-0123456789"
SETTINGS = TypeAdapter(HttpJsonSettings)


def spec(**fields: object) -> HttpJsonSettings:
    return SETTINGS.validate_python({"type": "http_json", **fields})


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_embedded_cloud_url_resolves_and_reads_soc_with_cloud_time(cloud: FakeCloud, clock) -> None:
    measured = clock.now - timedelta(minutes=7)
    cloud.route("GET", "/cloud/ioniq/soc", Reply(body={"soc": 63.0, "measured_at": rfc3339(measured)}))
    config = spec(url="embedded:/cloud/ioniq/soc", soc_path="soc", time_path="measured_at")
    provider = build("ioniq", config, tz=BERLIN, clock=clock, embedded_base_url=cloud.base_url + "/")

    reading = await provider.fetch("ioniq")

    assert (reading.vehicle, reading.soc_pct, reading.source) == ("ioniq", 63.0, "http_json")
    assert reading.measured_at == measured
    assert reading.received_at == clock.now
    assert reading.measured_at_known is True
    assert cloud.paths() == ["GET /cloud/ioniq/soc"]
    await provider.aclose()


def test_embedded_url_without_simulator_is_refused_at_build() -> None:
    with pytest.raises(ValueError, match="embedded simulator"):
        build("ioniq", spec(url="embedded:/cloud/ioniq/soc"), tz=BERLIN)


async def test_home_assistant_state_string_with_bearer_token(cloud: FakeCloud, clock) -> None:
    cloud.route(
        "GET",
        "/api/states/sensor.zoe_battery",
        Reply(
            body={
                "entity_id": "sensor.zoe_battery",
                "state": "63.5",
                "attributes": {"unit_of_measurement": "%"},
                "last_changed": "2025-06-02T05:00:00.000000+00:00",
                "last_updated": "2025-06-02T06:12:30.250000+00:00",
            }
        ),
    )
    config = spec(
        url=f"{cloud.base_url}/api/states/sensor.zoe_battery",
        headers={"Authorization": f"Bearer {TOKEN}"},
        soc_path="state",
        time_path=["last_reported", "last_updated"],
        source="home_assistant",
    )
    provider = build("zoe", config, tz=BERLIN, clock=clock)

    reading = await provider.fetch("zoe")

    assert (reading.soc_pct, reading.source) == (63.5, "home_assistant")
    assert reading.measured_at == datetime(2025, 6, 2, 6, 12, 30, 250000, tzinfo=UTC)
    assert cloud.hits[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(provider) and TOKEN not in repr(config)
    await provider.aclose()


async def test_list_index_path_epoch_milliseconds_and_basic_auth(cloud: FakeCloud, clock) -> None:
    cloud.route("POST", "/script", Reply(body={"data": [{"soc": 41, "ts": 1748847600000}]}))
    config = spec(
        url=f"{cloud.base_url}/script", method="POST", body={"car": "kona"},
        username="me", password="pw-secret-1", soc_path="data[0].soc", time_path="data.0.ts",
    )
    provider = build("kona", config, tz=BERLIN, clock=clock)

    reading = await provider.fetch("kona")

    assert reading.soc_pct == 41.0
    assert reading.measured_at == datetime(2025, 6, 2, 7, 0, tzinfo=UTC)
    assert cloud.hits[0].headers["authorization"] == "Basic bWU6cHctc2VjcmV0LTE="
    assert cloud.hits[0].body == b'{"car":"kona"}'
    await provider.aclose()


async def test_stale_reading_keeps_the_clouds_time(cloud: FakeCloud, clock) -> None:
    cloud.route("GET", "/soc", Reply(body={"soc": 55, "at": rfc3339(clock.now - timedelta(hours=5))}))
    provider = build("ioniq", spec(url=f"{cloud.base_url}/soc", time_path="at"), tz=BERLIN, clock=clock)

    reading = await provider.fetch("ioniq")

    assert reading.age_s(clock.now) == 5 * 3600
    await provider.aclose()


async def test_without_time_path_the_date_header_dates_the_reading(clock) -> None:
    server = await FakeCloud(date_header=False).start()
    try:
        server.route("GET", "/dated", Reply(body={"soc": 70}, headers={"Date": "Mon, 02 Jun 2025 07:30:00 GMT"}))
        server.route("GET", "/undated", Reply(body={"soc": 71}))
        dated = build("a", spec(url=f"{server.base_url}/dated"), tz=BERLIN, clock=clock)
        undated = build("b", spec(url=f"{server.base_url}/undated"), tz=BERLIN, clock=clock)

        with_date = await dated.fetch("a")
        without = await undated.fetch("b")

        assert (with_date.measured_at, with_date.measured_at_known) == (datetime(2025, 6, 2, 7, 30, tzinfo=UTC), True)
        assert (without.measured_at, without.measured_at_known) == (clock.now, False)
        await dated.aclose()
        await undated.aclose()
    finally:
        await server.stop()


async def test_401_is_a_retryable_error_without_the_token_and_backs_off(cloud: FakeCloud, clock) -> None:
    cloud.route("GET", "/soc", Reply(401, {"message": f"invalid token {TOKEN}"}))
    config = spec(url=f"{cloud.base_url}/soc", headers={"Authorization": f"Bearer {TOKEN}"})
    provider = build("zoe", config, tz=BERLIN, clock=clock)

    with pytest.raises(ProviderError) as failed:
        await provider.fetch("zoe")
    assert str(failed.value) == "http_json: HTTP 401 (check the credentials)"
    assert failed.value.retry_after_s == 60
    assert TOKEN not in "".join(traceback.format_exception(failed.value))

    clock.advance(seconds=59)
    with pytest.raises(ProviderError, match=r"^budget: http_json zoe backing off for 1 s"):
        await provider.fetch("zoe")
    assert cloud.count() == 1
    await provider.aclose()


async def test_429_honours_retry_after_then_calls_again(cloud: FakeCloud, clock) -> None:
    cloud.push("GET", "/soc", Reply(429, {"error": "daily request limit of 30 reached"}, {"Retry-After": "3600"}))
    cloud.route("GET", "/soc", Reply(body={"soc": 20, "t": 1748847600}))
    provider = build("ioniq", spec(url=f"{cloud.base_url}/soc", time_path="t"), tz=BERLIN, clock=clock)

    with pytest.raises(ProviderError) as limited:
        await provider.fetch("ioniq")
    assert limited.value.retry_after_s == 3600
    clock.advance(seconds=3599)
    with pytest.raises(ProviderError, match=r"^budget: "):
        await provider.fetch("ioniq")
    assert cloud.count() == 1
    clock.advance(seconds=1)
    assert (await provider.fetch("ioniq")).soc_pct == 20.0
    assert cloud.count() == 2
    await provider.aclose()


async def test_5xx_backs_off_exponentially(cloud: FakeCloud, clock) -> None:
    cloud.route("GET", "/soc", Reply(502, "<html>bad gateway</html>"))
    config = spec(url=f"{cloud.base_url}/soc", budget={"daily_limit": 10, "min_interval": "1m"})
    provider = build("ioniq", config, tz=BERLIN, clock=clock)
    waits = []
    for _ in range(4):
        with pytest.raises(ProviderError) as failed:
            await provider.fetch("ioniq")
        waits.append(failed.value.retry_after_s)
        clock.advance(seconds=failed.value.retry_after_s)
    assert waits == [60, 120, 240, 480]
    assert cloud.count() == 4
    await provider.aclose()


async def test_timeout(cloud: FakeCloud, clock) -> None:
    cloud.route("GET", "/soc", Reply(hang=True))
    provider = build("ioniq", spec(url=f"{cloud.base_url}/soc", request_timeout="0.2s"), tz=BERLIN, clock=clock)

    with pytest.raises(ProviderError) as failed:
        await provider.fetch("ioniq")

    assert str(failed.value) == "http_json: no answer within 0.2 s"
    assert failed.value.retry_after_s == 60
    await provider.aclose()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(body=b"<html>oops</html>"), "http_json: HTTP 200 body is not JSON"),
        (Reply(body={"attributes": {}}),
         "http_json: no 'attributes.battery_level' in the reply (missing 'battery_level')"),
        (Reply(body={"attributes": {"battery_level": "unavailable"}}),
         "http_json: 'attributes.battery_level' is not a number: 'unavailable'"),
        (Reply(body={"attributes": {"battery_level": 140}}),
         "http_json: 'attributes.battery_level' is not a percentage: 140.0"),
    ],
)
async def test_malformed_bodies(cloud: FakeCloud, clock, reply: Reply, message: str) -> None:
    cloud.route("GET", "/soc", reply)
    config = spec(url=f"{cloud.base_url}/soc", soc_path="attributes.battery_level")
    provider = build("c", config, tz=BERLIN, clock=clock)
    with pytest.raises(ProviderError) as failed:
        await provider.fetch("c")
    assert str(failed.value) == message
    assert failed.value.retry_after_s == 60
    await provider.aclose()


async def test_unparseable_timestamp_is_an_error(cloud: FakeCloud, clock) -> None:
    cloud.route("GET", "/soc", Reply(body={"soc": 50, "at": "yesterday"}))
    provider = build("c", spec(url=f"{cloud.base_url}/soc", time_path="at"), tz=BERLIN, clock=clock)
    with pytest.raises(ProviderError, match=r"^http_json: 'at' is not a timestamp: 'yesterday'$"):
        await provider.fetch("c")
    await provider.aclose()


async def test_evcc_error_words(cloud: FakeCloud, clock) -> None:
    cloud.push("GET", "/soc", Reply(503, "ErrAsleep"), Reply(404, "ErrNotAvailable"))
    provider = build("c", spec(url=f"{cloud.base_url}/soc", budget={"daily_limit": 5, "min_interval": 0}),
                     tz=BERLIN, clock=clock)
    with pytest.raises(ProviderError, match=r"^http_json: the car is asleep \(HTTP 503\)$"):
        await provider.fetch("c")
    clock.advance(minutes=1)
    with pytest.raises(ProviderUnsupported, match="not available"):
        await provider.fetch("c")
    await provider.aclose()


async def test_daily_limit_waits_until_local_midnight(cloud: FakeCloud, clock) -> None:
    cloud.route("GET", "/soc", Reply(body={"soc": 50}))
    config = spec(url=f"{cloud.base_url}/soc", budget={"daily_limit": 3, "min_interval": "10m"})
    provider = build("c", config, tz=BERLIN, clock=clock)
    for _ in range(3):
        await provider.fetch("c")
        clock.advance(minutes=10)
    # 10:30 in Berlin: 13.5 hours to midnight.
    with pytest.raises(ProviderError, match="used its 3 calls for today") as refused:
        await provider.fetch("c")
    assert refused.value.retry_after_s == 13.5 * 3600
    assert cloud.count() == 3
    await provider.aclose()


def test_password_in_the_url_is_masked_in_the_repr() -> None:
    provider = build("c", spec(url="http://me:url-secret-99@iobroker.local:8087/get/soc"), tz=BERLIN)
    assert repr(provider) == "HttpJsonProvider('c', 'http://me:***@iobroker.local:8087/get/soc')"


def test_settings_reject_bad_urls_and_half_basic_auth() -> None:
    with pytest.raises(ValidationError) as bad:
        spec(url="ftp://x/soc", password="p")
    problems = {(e["loc"], e["msg"]) for e in bad.value.errors()}
    assert problems == {(("url",), "Value error, must be an http(s):// URL or embedded:/path (the embedded simulator)")}
    with pytest.raises(ValidationError, match="basic auth needs both username and password"):
        spec(url="http://ha.local:8123/api/states/sensor.x", password="p")
    assert "p" not in repr(spec(url="http://h/x", username="u", password="p").password)


def test_extract_and_timestamps() -> None:
    data = {"a": [{"b": {"c": 1}}, 2], "state": "63.5"}
    assert extract(data, "a.0.b.c") == 1
    assert extract(data, "a[1]") == 2
    assert extract(data, "a.-1") == 2
    with pytest.raises(KeyError):
        extract(data, "a.2")
    assert parse_timestamp("2020-11-17T09:06:48+01:00", BERLIN) == datetime(2020, 11, 17, 8, 6, 48, tzinfo=UTC)
    assert parse_timestamp("2020-01-12T21:40:16Z", BERLIN) == datetime(2020, 1, 12, 21, 40, 16, tzinfo=UTC)
    assert parse_timestamp("2025-06-02 10:00:00", BERLIN) == datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    assert parse_timestamp(1661641175268, BERLIN) == datetime(2022, 8, 27, 22, 59, 35, 268000, tzinfo=UTC)
    assert parse_timestamp("1661641175", BERLIN) == datetime(2022, 8, 27, 22, 59, 35, tzinfo=UTC)
