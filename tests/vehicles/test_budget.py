from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Annotated
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from smartload.settings.providers import (
    BudgetSettings,
    HttpJsonSettings,
    HyundaiKiaSettings,
    ManualSettings,
    MqttSettings,
    RenaultSettings,
)
from smartload.vehicles.base import ProviderError
from smartload.vehicles.budget import CallBudget, next_local_midnight
from smartload.vehicles.http_json import build as build_http_json
from smartload.vehicles.renault import build as build_renault
from tests.vehicles.conftest import FakeClock
from tests.vehicles.fakecloud import FakeCloud, Hit, Reply
from tests.vehicles.test_renault import BATTERY, RenaultCloud
from tests.vehicles.test_renault import settings as renault_settings

BERLIN = ZoneInfo("Europe/Berlin")


def budget(clock: FakeClock, daily_limit: int = 3, min_interval: float = 600, **more: float) -> CallBudget:
    spec = BudgetSettings(daily_limit=daily_limit, min_interval=min_interval, **more)
    return CallBudget("cloud car", spec, BERLIN, clock)


def refused(call: CallBudget) -> ProviderError:
    with pytest.raises(ProviderError) as error:
        call.take()
    return error.value


def test_minimum_interval_and_daily_limit_reset_at_local_midnight(clock: FakeClock) -> None:
    calls = budget(clock)
    calls.take()
    clock.advance(seconds=599)
    error = refused(calls)
    assert (str(error), error.retry_after_s) == (
        "budget: cloud car was called 599 s ago (minimum interval 600 s)", 1)
    clock.advance(seconds=1)
    calls.take()
    clock.advance(minutes=10)
    calls.take()
    clock.advance(minutes=10)
    error = refused(calls)
    assert str(error) == "budget: cloud car used its 3 calls for today"
    # 10:30 CEST: midnight in Berlin is 22:00 UTC, 13.5 h away.
    assert error.retry_after_s == 13.5 * 3600
    assert calls.calls_today == 3
    clock.now = datetime(2025, 6, 2, 22, 0, tzinfo=UTC)
    assert calls.calls_today == 0
    calls.take()
    assert (calls.calls_today, calls.calls_total) == (1, 4)


def test_refusals_are_not_counted(clock: FakeClock) -> None:
    calls = budget(clock, daily_limit=2)
    calls.take()
    for _ in range(5):
        refused(calls)
    clock.advance(minutes=10)
    calls.take()
    assert calls.calls_total == 2


def test_backoff_doubles_up_to_the_cap_honours_retry_after_and_resets(clock: FakeClock) -> None:
    calls = budget(clock, daily_limit=100, min_interval=0, backoff_initial=60, backoff_max=300)
    waits = []
    for _ in range(5):
        calls.take()
        waits.append(calls.failed())
        clock.advance(seconds=waits[-1])
    assert waits == [60, 120, 240, 300, 300]
    calls.take()
    assert calls.failed(retry_after_s=1000) == 1000
    clock.advance(seconds=999)
    error = refused(calls)
    assert (str(error), error.retry_after_s) == ("budget: cloud car backing off for 1 s after failures", 1)
    clock.advance(seconds=1)
    calls.take()
    calls.succeeded()
    calls.take()
    assert calls.failed(retry_after_s=5) == 60


def test_block_until_tomorrow(clock: FakeClock) -> None:
    calls = budget(clock)
    calls.take()
    assert calls.block_until_tomorrow() == 14 * 3600  # 10:00 in Berlin
    clock.now = datetime(2025, 6, 2, 21, 59, 59, tzinfo=UTC)
    assert refused(calls).retry_after_s == 1
    clock.advance(seconds=1)
    calls.take()


def test_midnight_on_the_short_and_the_long_day() -> None:
    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    assert next_local_midnight(utc(2025, 3, 30, 10, 0), BERLIN) == utc(2025, 3, 30, 22, 0)  # 23 h day
    assert next_local_midnight(utc(2025, 10, 26, 10, 0), BERLIN) == utc(2025, 10, 26, 23, 0)  # 25 h day
    assert next_local_midnight(utc(2025, 10, 26, 22, 30), BERLIN) == utc(2025, 10, 26, 23, 0)
    assert next_local_midnight(utc(2025, 10, 26, 23, 0), BERLIN) == utc(2025, 10, 27, 23, 0)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=4 * 3600), min_size=1, max_size=80),
    daily_limit=st.integers(min_value=0, max_value=6),
    min_interval=st.integers(min_value=0, max_value=7200),
)
def test_no_sequence_of_requests_beats_the_budget(gaps: list[int], daily_limit: int, min_interval: int) -> None:
    clock = FakeClock(datetime(2025, 3, 29, 20, 0, tzinfo=UTC))  # across the spring DST night
    calls = budget(clock, daily_limit=daily_limit, min_interval=min_interval)
    granted: list[datetime] = []
    for gap in gaps:
        clock.advance(seconds=gap)
        try:
            calls.take()
        except ProviderError as error:
            assert error.retry_after_s is not None and error.retry_after_s > 0
            continue
        granted.append(clock.now)
    per_day: dict[object, int] = {}
    for at in granted:
        day = at.astimezone(BERLIN).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert all(n <= daily_limit for n in per_day.values())
    assert all(b - a >= timedelta(seconds=min_interval) for a, b in pairwise(granted))


class VehicleConfig(BaseModel):
    """The shape check-config validates: vehicles.<name>.provider is a tagged union."""

    provider: Annotated[
        RenaultSettings | HyundaiKiaSettings | HttpJsonSettings | MqttSettings | ManualSettings,
        Field(discriminator="type"),
    ]


def problems(data: dict) -> list[str]:
    try:
        VehicleConfig.model_validate(data)
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
    return []


def test_check_config_names_the_missing_credential_and_the_unknown_type() -> None:
    assert problems({"provider": {"type": "renault", "username": "me@example.com"}}) == [
        "provider.renault.password: Field required"]
    assert problems({"provider": {"type": "kia", "username": "me@example.com"}}) == [
        "provider.kia.password: Field required"]
    assert problems({"provider": {"type": "hyundai", "password": "x"}}) == [
        "provider.hyundai.username: Field required"]
    assert problems({"provider": {"type": "tesla"}}) == [
        "provider: Input tag 'tesla' found using 'type' does not match any of the expected tags: "
        "'renault', 'kia', 'hyundai', 'http_json', 'mqtt', 'manual'"]
    assert problems({"provider": {"type": "manual"}}) == []
    assert problems({"provider": {"type": "mqtt", "topic": "a/b", "password": "pw"}}) == [
        "provider.mqtt: Value error, a password needs a username"]


class EmbeddedCloud:
    """Like the simulator's fake car cloud: a daily request limit, then 429 until midnight."""

    def __init__(self, clock: FakeClock, daily_limit: int) -> None:
        self.clock, self.daily_limit, self.used = clock, daily_limit, 0

    def __call__(self, _: Hit) -> Reply:
        if self.used >= self.daily_limit:
            reset = next_local_midnight(self.clock.now, BERLIN)
            wait = int((reset - self.clock.now).total_seconds())
            return Reply(429, {"error": "daily request limit reached", "reset_at": reset.isoformat()},
                         {"Retry-After": str(wait)})
        self.used += 1
        measured = self.clock.now - timedelta(minutes=3)
        return Reply(body={"soc": 63.0, "measured_at": measured.isoformat().replace("+00:00", "Z")})


def outcome(error: Exception) -> str:
    text = str(error)
    for fragment, label in (("minimum interval", "min"), ("calls for today", "day"), ("backing off", "backoff")):
        if text.startswith("budget: ") and fragment in text:
            return label
    return text


async def test_day_of_30_plug_ins_of_three_cars_makes_exactly_the_budgeted_calls(cloud: FakeCloud,
                                                                                  clock: FakeClock) -> None:
    """Each plug-in asks its car's provider at once, however close together; only what
    the providers' budgets allow reaches a cloud."""
    renault = RenaultCloud(cloud)
    embedded = EmbeddedCloud(clock, daily_limit=3)
    cloud.route("GET", "/cloud/ioniq/soc", embedded)
    ha_state = {"state": "48", "last_updated": "2025-06-02T03:00:00Z"}
    cloud.route("GET", "/api/states/sensor.id3_soc", Reply(body=ha_state))
    providers = {
        "zoe": build_renault("zoe", renault_settings(budget={"daily_limit": 4, "min_interval": "1h"}), tz=BERLIN,
                             clock=clock, locale_details=renault.locale_details()),
        "ioniq": build_http_json("ioniq", HttpJsonSettings(
            type="http_json", url="embedded:/cloud/ioniq/soc", time_path=["measured_at"],
            budget=BudgetSettings(daily_limit=10, min_interval=timedelta(minutes=30))),
            tz=BERLIN, clock=clock, embedded_base_url=cloud.base_url),
        "id3": build_http_json("id3", HttpJsonSettings(
            type="http_json", url=f"{cloud.base_url}/api/states/sensor.id3_soc", soc_path="state",
            time_path=["last_updated"], budget=BudgetSettings(daily_limit=5, min_interval=timedelta(minutes=15))),
            tz=BERLIN, clock=clock),
    }
    day = datetime(2025, 6, 2, 4, 0, tzinfo=UTC)  # 06:00 in Berlin
    plug_ins = {  # minutes after 06:00, 10 per car, the last at 23:00
        "zoe": [0, 20, 70, 90, 150, 300, 320, 600, 700, 900],
        "ioniq": [5, 25, 45, 100, 130, 200, 400, 410, 800, 1000],
        "id3": [10, 12, 14, 30, 60, 61, 200, 500, 700, 1020],
    }
    events = sorted((minute, car) for car, minutes in plug_ins.items() for minute in minutes)
    assert len(events) == 30
    outcomes: dict[str, list[str]] = {car: [] for car in plug_ins}
    for minute, car in events:
        clock.now = day + timedelta(minutes=minute)
        try:
            reading = await providers[car].fetch(car)
            outcomes[car].append(f"{reading.soc_pct:g}")
        except ProviderError as error:
            outcomes[car].append(outcome(error))

    assert outcomes == {
        "zoe": ["60", "min", "60", "min", "60", "60", "day", "day", "day", "day"],
        "ioniq": ["63", "min", "63", "63", "http_json: HTTP 429", *["backoff"] * 5],
        "id3": ["48", "min", "min", "48", "48", "min", "48", "48", "day", "day"],
    }
    assert cloud.count("GET", BATTERY) == 4
    assert cloud.count("POST", "/gigya/accounts.login") == 1
    assert cloud.count("GET", "/cloud/ioniq/soc") == 4
    assert cloud.count("GET", "/api/states/sensor.id3_soc") == 5
    assert len(cloud.hits) == 5 + 4 + 4 + 5  # Renault's first call also logs in and finds the car
    for provider in providers.values():
        await provider.aclose()  # type: ignore[attr-defined]
