"""Version-tolerant parsing of evcc state bodies and recording lines into SiteState.

Nothing here raises for bad input: a body that is not a usable state becomes a
PollError(kind="parse") with a one-line message, so it flows through the poll stream as
a health event. A null or wrong-typed field becomes None (or the field's default)
without spoiling the rest of the state; unknown keys are ignored.

Fast path: pydantic-core validates the raw bytes against models that declare only the
fields we read (raw.py). Only when that fails does the tolerant path run: `json.loads`,
null each location pydantic complained about, validate again.

The forecast is most of a state body and rarely changes. Once the same forecast has been
seen twice, StateParser remembers its exact bytes; a later body holding those bytes at a
`"forecast"` key has them cut out before validation and reuses the converted Tariffs
(forecast.py). Loadpoints and the vehicles map are reused when their raw values repeat.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from pydantic import TypeAdapter, ValidationError

from smartload.domain import (
    BatteryState,
    ChargeMode,
    LoadpointState,
    Poll,
    PollError,
    SiteState,
    Tariffs,
    VehicleInfo,
)
from smartload.evcc import raw as r
from smartload.evcc.forecast import ForecastMemo, parse_tariff
from smartload.evcc.ws import fold_frames, has_flat_keys, may_have_flat_keys

__all__ = ["UNKNOWN_TIME", "StateParser", "parse_recording_line", "parse_state", "parse_tariff"]

# A recording line whose "t" cannot be read still gets a time, so a replay can place it;
# the PollError beside it says what was wrong.
UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)

_MODES: dict[Any, ChargeMode] = {mode.value: mode for mode in ChargeMode}
_NO_VEHICLES: Mapping[str, VehicleInfo] = MappingProxyType({})
_MAX_REPAIRS = 4


class StateParser:
    """Parses evcc bodies, remembering the last forecast, vehicles and loadpoints it built.

    The memo only saves work: results equal those of a fresh parser. A parser may be
    shared; each memo update is one atomic assignment.
    """

    def __init__(self) -> None:
        self._forecast = ForecastMemo()
        self._vehicles: tuple[Any, Mapping[str, VehicleInfo]] = (None, _NO_VEHICLES)
        self._loadpoints: dict[int, tuple[dict[str, Any], LoadpointState]] = {}

    def parse_state(self, raw: bytes | str | Mapping[str, Any], at: datetime) -> Poll:
        """A `/api/state` body of any evcc version, or a websocket frame, received at `at`."""
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        try:
            if isinstance(raw, bytes | bytearray | memoryview | str):
                body = raw.encode() if isinstance(raw, str) else bytes(raw)
                return self._state_fast(body, at)
            return self._tolerant(raw, at, owned=False)
        except Exception as exc:  # a parser bug must not end the poll stream
            return PollError(at, "parse", f"not an evcc state: parser failed ({type(exc).__name__})")

    def parse_recording_line(self, line: bytes | str) -> tuple[datetime, Poll]:
        """`{"t": ..., "state": {...}}` or `{"t": ..., "error": "..."}`, in one pass."""
        try:
            return self._line_fast(line.encode() if isinstance(line, str) else bytes(line))
        except Exception as exc:  # a parser bug must not end a replay
            message = f"recording line: parser failed ({type(exc).__name__})"
            return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", message)

    # -- fast path: validate the bytes --------------------------------------------------

    def _plan(
        self, body: bytes, lean: TypeAdapter[Any], full: TypeAdapter[Any]
    ) -> tuple[TypeAdapter[Any], bytes, list[int], Tariffs | None]:
        """The adapter and bytes to validate: without the forecast when it is known."""
        to_validate, starts, tariffs = self._forecast.known(body)
        return (full if tariffs is None else lean), to_validate, starts, tariffs

    def _state_fast(self, body: bytes, at: datetime) -> Poll:
        adapter, to_validate, starts, tariffs = self._plan(body, r.STATE_LEAN, r.STATE)
        try:
            state = adapter.validate_json(to_validate)
        except ValidationError:
            return self._state_slow(body, at)
        return self._site(state, at, body, starts, tariffs) or self._state_slow(body, at)

    def _line_fast(self, body: bytes) -> tuple[datetime, Poll]:
        adapter, to_validate, starts, tariffs = self._plan(body, r.LINE_LEAN, r.LINE)
        try:
            record = adapter.validate_json(to_validate)
        except ValidationError:
            return self._line_slow(body)
        at, error = _line_header(record)
        if error is not None:
            return at, error
        return at, self._site(record["state"], at, body, starts, tariffs) or self._line_slow(body)[1]

    def _site(
        self, state: dict[str, Any], at: datetime, body: bytes, starts: list[int], tariffs: Tariffs | None
    ) -> SiteState | None:
        """A SiteState from a validated body, or None to leave it to the tolerant path."""
        site = r.unwrap(state)
        if "loadpoints" not in site and (may_have_flat_keys(body) or not r.usable(site)):
            return None  # a websocket frame to fold, or a message to explain
        if tariffs is None:
            tariffs = self._forecast.tariffs_for(site.get("forecast"), body, starts)
        return self._build(site, at, tariffs)

    # -- tolerant path: decode, then repair until it validates --------------------------

    def _state_slow(self, body: bytes, at: datetime) -> Poll:
        data, problem = r.loads(body)
        if problem is not None:
            return PollError(at, "parse", problem)
        return self._tolerant(data, at, owned=True)

    def _line_slow(self, body: bytes) -> tuple[datetime, Poll]:
        data, problem = r.loads(body)
        if problem is not None or not isinstance(data, dict):
            why = problem or f"a JSON {r.json_kind(data)}, not an object"
            return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", f"recording line: {why}")
        at, error = _line_header(data)
        return at, error or self._tolerant(data["state"], at, owned=True)

    def _tolerant(self, data: Any, at: datetime, *, owned: bool) -> Poll:
        if not isinstance(data, Mapping):
            return PollError(at, "parse", f"not an evcc state: a JSON {r.json_kind(data)}, not an object")
        if has_flat_keys(data):
            data, owned = fold_frames([data]), False  # nested values may still be the caller's
        for _ in range(_MAX_REPAIRS):
            try:
                state = r.STATE.validate_python(data)
            except ValidationError as exc:
                if not owned:
                    data, owned = copy.deepcopy(dict(data)), True
                errors = exc.errors(include_url=False)
                if not any([r.null_at(data, error["loc"]) for error in errors]):
                    return PollError(at, "parse", f"not an evcc state: {r.describe_error(errors[0])}")
                continue
            site = r.unwrap(state)
            if "loadpoints" not in site and not r.usable(site):
                return PollError(at, "parse", f"not an evcc state: {r.why_unusable(data)}")
            return self._build(site, at, self._forecast.tariffs_for(site.get("forecast")))
        return PollError(at, "parse", "not an evcc state: still invalid after repairs")

    # -- normalisation ------------------------------------------------------------------

    def _vehicles_for(self, raw: dict[str, Any] | None) -> Mapping[str, VehicleInfo]:
        if not raw:
            return _NO_VEHICLES
        last_raw, last = self._vehicles
        if raw == last_raw:
            return last
        vehicles = MappingProxyType({name: _vehicle(name, v) for name, v in raw.items() if v is not None})
        self._vehicles = (raw, vehicles)
        return vehicles

    def _loadpoints_for(self, raw: list[dict[str, Any] | None]) -> tuple[LoadpointState, ...]:
        memo, fresh = self._loadpoints, {}
        for index, lp in enumerate(raw):
            if lp is not None:
                last = memo.get(index)
                fresh[index] = last if last is not None and last[0] == lp else (lp, _loadpoint(index, lp))
        self._loadpoints = fresh
        return tuple([built for _, built in fresh.values()])

    def _build(self, site: dict[str, Any], at: datetime, tariffs: Tariffs) -> SiteState:
        grid = site.get("grid")
        grid_power = grid.get("power") if grid else None
        return SiteState(
            at=at,
            version=site.get("version"),
            currency=site.get("currency"),
            grid_power_w=site.get("gridPower") if grid_power is None else grid_power,
            pv_power_w=site.get("pvPower"),
            home_power_w=site.get("homePower"),
            battery=_battery(site),
            tariff_grid=site.get("tariffGrid"),
            tariff_feedin=site.get("tariffFeedIn"),
            forecast=tariffs,
            loadpoints=self._loadpoints_for(site.get("loadpoints") or []),
            vehicles=self._vehicles_for(site.get("vehicles")),
        )


def _loadpoint(index: int, lp: dict[str, Any]) -> LoadpointState:
    get = lp.get
    return LoadpointState(
        id=index + 1,
        title=get("title") or "",
        mode=_MODES.get(get("mode")),  # unknown modes are None, not an error
        connected=bool(get("connected")),
        charging=bool(get("charging")),
        enabled=bool(get("enabled")),
        charge_power_w=get("chargePower"),
        vehicle_name=get("vehicleName"),
        vehicle_title=get("vehicleTitle"),
        vehicle_detection_active=bool(get("vehicleDetectionActive")),
        vehicle_soc_pct=get("vehicleSoc"),
        limit_soc_pct=get("limitSoc"),
        effective_limit_soc_pct=get("effectiveLimitSoc"),
        min_current_a=get("minCurrent"),
        max_current_a=get("maxCurrent"),
        phases_configured=get("phasesConfigured"),
        phases_active=get("phasesActive"),
        smart_cost_limit=get("smartCostLimit"),
        session_energy_wh=get("sessionEnergy"),
        disabled=bool(get("disabled")),
    )


def _battery(site: dict[str, Any]) -> BatteryState | None:
    power, soc, capacity = site.get("batteryPower"), site.get("batterySoc"), site.get("batteryCapacity")
    devices = site.get("battery")
    if isinstance(devices, dict):  # 0.301 and later: one object for all batteries
        power = _first(r.number(devices.get("power")), power)
        soc = _first(r.number(devices.get("soc")), soc)
        capacity = _first(r.number(devices.get("capacity")), capacity)
    elif isinstance(devices, list) and None in (power, soc, capacity):  # before 0.301
        listed = [d for d in devices if isinstance(d, dict)]
        powers = [p for d in listed if (p := r.number(d.get("power"))) is not None]
        capacities = [c for d in listed if (c := r.number(d.get("capacity"))) is not None]
        power = _first(power, sum(powers) if powers else None)
        capacity = _first(capacity, sum(capacities) if capacities else None)
        soc = _first(soc, _mean_soc(listed))
    if power is None and soc is None and capacity is None:
        return None
    return BatteryState(
        power_w=power,
        soc_pct=soc,
        capacity_kwh=capacity,
        mode=site.get("batteryMode"),
        discharge_control=site.get("batteryDischargeControl"),
        grid_charge_limit=site.get("batteryGridChargeLimit"),
        buffer_soc_pct=site.get("bufferSoc"),
        buffer_start_soc_pct=site.get("bufferStartSoc"),
        priority_soc_pct=site.get("prioritySoc"),
    )


def _mean_soc(devices: list[dict[str, Any]]) -> float | None:
    """Capacity-weighted SoC of several batteries; the plain mean if a capacity is missing."""
    pairs = [(s, r.number(d.get("capacity"))) for d in devices if (s := r.number(d.get("soc"))) is not None]
    if not pairs:
        return None
    if all(c for _, c in pairs):
        return sum(s * c for s, c in pairs if c) / sum(c for _, c in pairs if c)
    return sum(s for s, _ in pairs) / len(pairs)


def _vehicle(name: str, raw: dict[str, Any]) -> VehicleInfo:
    plan = raw.get("plan") or {}
    return VehicleInfo(
        name=name,
        title=raw.get("title") or "",
        capacity_kwh=raw.get("capacity"),
        min_soc_pct=raw.get("minSoc"),
        limit_soc_pct=raw.get("limitSoc"),
        plan_soc_pct=plan.get("soc"),
        plan_time=r.utc_time(plan.get("time")),
    )


def _first(a: float | None, b: float | None) -> float | None:
    return b if a is None else a


def _line_header(record: Mapping[str, Any]) -> tuple[datetime, PollError | None]:
    """A recording line's time, and its PollError when it holds no state to parse."""
    at = r.utc_time(record.get("t"), cached=False)
    if at is None:
        return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", 'recording line: no valid "t"')
    if record.get("error") is not None:
        return at, r.recorded_error(at, record["error"], record.get("kind"))
    if record.get("state") is None:
        return at, PollError(at, "parse", 'recording line: neither "state" nor "error"')
    return at, None


_DEFAULT = StateParser()


def parse_state(raw: bytes | str | Mapping[str, Any], at: datetime) -> Poll:
    """Parse one evcc state body with the module's shared parser. Never raises.

    A body that is not a usable state gives PollError(kind="parse"); a websocket
    forecast shard alone is one (fold it onto a welcome frame with ws.fold_frames first).
    """
    return _DEFAULT.parse_state(raw, at)


def parse_recording_line(line: bytes | str) -> tuple[datetime, Poll]:
    """Parse one recording line with the module's shared parser. Never raises.

    The time is the line's "t" in UTC, or UNKNOWN_TIME when it has none.
    """
    return _DEFAULT.parse_recording_line(line)
