"""The PV forecast corrected by what was produced today: the rest of today scaled by
today's produced over forecast energy, the next hour pulled towards the last quarter-hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smartload.domain import Rate
from smartload.sinks.solar_forecast import SolarCorrection

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 4, 14, 0, 0, tzinfo=BERLIN)
Q = timedelta(minutes=15)


def hourly(start: datetime, hours: int, watts: float) -> tuple[Rate, ...]:
    return tuple(Rate(start + timedelta(hours=h), start + timedelta(hours=h + 1), watts) for h in range(hours))


def run(correction: SolarCorrection, forecast: tuple[Rate, ...], start: datetime, end: datetime,
        measured: float | list[float], poll: timedelta = timedelta(minutes=1)) -> None:
    """Polls from start to end (the planner sees the forecast at each quarter-hour)."""
    t = start
    while t <= end:
        if t.minute % 15 == 0 and t.second == 0:
            correction.forecast_seen(t, forecast)
        watts = measured if isinstance(measured, float) else measured[int((t - start) / Q)]
        correction.observe(t, watts)
        t += poll


def test_a_morning_above_forecast_scales_the_rest_of_today_and_the_next_hour_more():
    forecast = hourly(DAY, 48, 2000.0)
    correction = SolarCorrection(BERLIN, adjusted=True)
    run(correction, forecast, DAY + timedelta(hours=8), DAY + timedelta(hours=10), 3000.0)
    scale = correction.scale(DAY + timedelta(hours=10))
    # Midnight to 08:00 forecast 16 kWh at 2 kW with no readings: not counted. 08:00-10:00:
    # 4 kWh forecast, 6 produced, with the 1 kWh prior: 7 / 5.
    assert (scale.forecast_kwh, scale.produced_kwh) == (4.0, 6.0)
    assert scale.day == pytest.approx(1.4)
    assert scale.now == pytest.approx(1.5)
    now = DAY + timedelta(hours=10)
    rates = correction.corrected(now, forecast)
    by_start = {r.start: r for r in rates}
    # The next hour in quarter-hours, the last quarter-hour's 1.5 fading to the day's 1.4.
    assert [round(by_start[now + i * Q].value, 3) for i in range(4)] == [2975.0, 2925.0, 2875.0, 2825.0]
    assert by_start[now + 4 * Q].value == pytest.approx(2800.0)  # 11:00: the day's scale
    assert by_start[now + 4 * Q].end == now + timedelta(hours=2)  # not cut: one factor
    assert by_start[DAY + timedelta(days=1, hours=10)].value == 2000.0  # tomorrow as forecast
    assert by_start[DAY + timedelta(hours=9)].value == 2000.0  # the past untouched
    assert sum((r.end - r.start for r in rates), timedelta(0)) == timedelta(hours=48)


def test_an_hour_in_progress_is_cut_where_its_factor_changes():
    forecast = hourly(DAY, 24, 1000.0)
    correction = SolarCorrection(BERLIN, adjusted=True)
    run(correction, forecast, DAY + timedelta(hours=9), DAY + timedelta(hours=10, minutes=30), 500.0)
    now = DAY + timedelta(hours=10, minutes=30, seconds=20)
    assert correction.scale(now).day == pytest.approx((0.75 + 1) / (1.5 + 1))  # 0.7
    assert correction.scale(now).now == pytest.approx(0.5)
    hour = (DAY + timedelta(hours=10), DAY + timedelta(hours=11))
    rates = [r for r in correction.corrected(now, forecast) if hour[0] <= r.start < hour[1]]
    rates = [r for r in correction.corrected(now, forecast) if hour[0] <= r.start < hour[1]]
    assert [(r.start.minute, r.end.minute) for r in rates] == [(0, 15), (15, 30), (30, 45), (45, 0)]
    # Each piece by the middle of what is left of it: 10:37:40 is 7 1/3 minutes ahead
    # (weight 0.878 of the last quarter-hour's 0.5, the rest the day's 0.7), 10:52:30 is
    # 22 1/6 (0.631).
    assert [round(r.value, 2) for r in rates] == [1000.0, 1000.0, 524.44, 573.89]


def test_night_and_dusk_quarter_hours_say_nothing_about_now():
    forecast = hourly(DAY, 24, 50.0)  # dusk: 50 W forecast, 200 W seen
    correction = SolarCorrection(BERLIN, adjusted=True)
    run(correction, forecast, DAY + timedelta(hours=19), DAY + timedelta(hours=20), 200.0)
    scale = correction.scale(DAY + timedelta(hours=20))
    assert scale.now == scale.day
    assert scale.day == pytest.approx((0.2 + 1.0) / (0.05 + 1.0))


def test_a_quarter_hour_with_too_few_readings_and_a_new_day_count_nothing():
    forecast = hourly(DAY, 48, 2000.0)
    correction = SolarCorrection(BERLIN, adjusted=True)
    # evcc down from 08:10 to 08:30: 08:00-08:15 has 10 minutes (counted), 08:15 none.
    run(correction, forecast, DAY + timedelta(hours=8), DAY + timedelta(hours=8, minutes=5), 4000.0)
    run(correction, forecast, DAY + timedelta(hours=8, minutes=30), DAY + timedelta(hours=8, minutes=45), 4000.0)
    scale = correction.scale(DAY + timedelta(hours=8, minutes=45))
    # The 5-minute reading at 08:05 holds until 08:10 (at most 5 minutes): 10 minutes seen.
    assert (scale.forecast_kwh, scale.produced_kwh) == (1.0, 2.0)
    tomorrow = DAY + timedelta(days=1, hours=0, minutes=15)
    correction.forecast_seen(tomorrow, forecast)
    assert correction.scale(tomorrow).day == 1.0


def test_a_zero_reading_all_morning_is_bounded_and_off_leaves_the_forecast_alone():
    forecast = hourly(DAY, 24, 3000.0)
    correction = SolarCorrection(BERLIN, adjusted=True)
    run(correction, forecast, DAY + timedelta(hours=6), DAY + timedelta(hours=12), 0.0)
    # (0 + 1) / (18 + 1) = 0.05 is held at 0.2: a meter reading 0 must not wipe out the PV.
    assert correction.scale(DAY + timedelta(hours=12)).day == 0.2
    off = SolarCorrection(BERLIN, adjusted=False)
    run(off, forecast, DAY + timedelta(hours=6), DAY + timedelta(hours=12), 0.0)
    assert off.corrected(DAY + timedelta(hours=12), forecast) == forecast


def test_by_default_it_corrects_while_evcc_s_own_switch_is_on():
    forecast = hourly(DAY, 24, 3000.0)
    follows = SolarCorrection(BERLIN)
    run(follows, forecast, DAY + timedelta(hours=6), DAY + timedelta(hours=12), 1500.0)
    noon = DAY + timedelta(hours=12)
    assert follows.corrected(noon, forecast) == forecast  # no solarAdjusted in the state: off
    follows.observe(noon, 1500.0, evcc_adjusted=True)
    # What was produced while it was off counts at once: (9 + 1) / (18 + 1).
    assert follows.scale(noon).day == pytest.approx(10 / 19)
    assert follows.corrected(noon, forecast)[-1].value == pytest.approx(3000.0 * 10 / 19)
    follows.observe(noon + timedelta(minutes=1), 1500.0, evcc_adjusted=False)
    assert follows.corrected(noon + timedelta(minutes=1), forecast) == forecast


def test_the_day_boundary_is_local_midnight_across_the_clock_change():
    """2026-03-29 has 23 hours in Berlin: tomorrow starts at 22:00 UTC, not 23:00."""
    spring = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    forecast = tuple(Rate(spring.astimezone(UTC) + timedelta(hours=h), spring.astimezone(UTC) + timedelta(hours=h + 1),
                          1000.0) for h in range(30))
    correction = SolarCorrection(BERLIN, adjusted=True, blend=timedelta(0))
    start = datetime(2026, 3, 29, 9, 0, tzinfo=BERLIN).astimezone(UTC)
    run(correction, forecast, start, start + timedelta(hours=4), 2000.0)
    rates = correction.corrected(start + timedelta(hours=4), forecast)
    scaled = {r.start: r.value for r in rates}
    assert scaled[datetime(2026, 3, 29, 21, 0, tzinfo=UTC)] > 1000.0  # 23:00 local, still today
    assert scaled[datetime(2026, 3, 29, 22, 0, tzinfo=UTC)] == 1000.0  # 00:00 local, tomorrow


def _sink_slots(db, planning: dict, evcc_adjusted: bool | None = None) -> list[float]:
    """The PV the planner gets at 10:00 after a morning at 3 kW against a 2 kW forecast,
    through the service's own planning sink (polls every minute, a plan every quarter-hour)."""
    from smartload.domain import LoadpointState, SiteState, Snapshot, Tariffs
    from smartload.settings import Settings
    from smartload.sinks.planning import make_planning
    from smartload.store.requests import RequestStore

    config = Settings.model_validate({"site": {"timezone": "Europe/Berlin"}, "planning": planning,
                                      "vehicles": {"zoe": {"capacity_kwh": 52}}})
    sink = make_planning(config, RequestStore(db))
    start = DAY.astimezone(UTC) + timedelta(hours=8)
    tariffs = Tariffs(grid=hourly(DAY, 48, 0.30), solar=hourly(DAY, 48, 2000.0))
    inputs = None
    for minute in range(121):
        at = start + timedelta(minutes=minute)
        state = SiteState(at=at, pv_power_w=3000.0, solar_adjusted=evcc_adjusted, loadpoints=(
            LoadpointState(id=1, connected=False, phases_configured=3, min_current_a=6, max_current_a=16),))
        sink.on_state(state)
        if minute % 15 == 0:
            inputs = sink.sequencer.planner_input(Snapshot(at, state, {}, tariffs), sink.sequencer.requests(at), {})
    assert inputs is not None
    return [round(slot.pv_w, 1) for slot in inputs.slots[:6]]


def test_the_service_plans_with_the_corrected_forecast_as_evcc_s_switch_or_the_settings_say(db):
    corrected = [2975.0, 2925.0, 2875.0, 2825.0, 2800.0, 2800.0]
    assert _sink_slots(db, {}, evcc_adjusted=True) == corrected
    assert _sink_slots(db, {}) == [2000.0] * 6  # an evcc that does not say
    assert _sink_slots(db, {}, evcc_adjusted=False) == [2000.0] * 6
    assert _sink_slots(db, {"solar_adjusted": True}) == corrected
    assert _sink_slots(db, {"solar_adjusted": False}, evcc_adjusted=True) == [2000.0] * 6
    # Only the day's scale: the next hour too at 7 / 5.
    assert _sink_slots(db, {"solar_adjusted": True, "solar_blend": "0s"}) == [2800.0] * 6
