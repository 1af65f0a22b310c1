"""Version-tolerant parsing of evcc state bodies and recording lines into SiteState.

Nothing here raises for bad input: a body that is not a usable state becomes a
PollError(kind="parse") with a one-line message, so it flows through the poll stream as
a health event. A null or wrong-typed field becomes None (or the field's default)
without spoiling the rest of the state.

Fast path: pydantic-core validates the raw bytes against models that declare only the
fields we read (raw.py). Only when that fails does the tolerant path run: `json.loads`,
null each location pydantic complained about, validate again.

The forecast is most of a state body and rarely changes between polls. StateParser
remembers the bytes of the last forecast value it converted; when a body contains those
exact bytes at a `"forecast"` key, it skips validating and converting the forecast (a
JSON value is self-delimiting, so identical bytes mean an identical value).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from smartload.domain import (
    BatteryState,
    ChargeMode,
    LoadpointState,
    PollError,
    PollErrorKind,
    Rate,
    SiteState,
    Tariffs,
    VehicleInfo,
)
from smartload.evcc import raw as r
from smartload.evcc.ws import fold_frames, has_flat_keys, may_have_flat_keys

# A recording line whose "t" cannot be read still yields a time, so the replay can order
# it; the PollError beside it says what was wrong.
UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)

_MODES = {mode.value: mode for mode in ChargeMode}
_KINDS: frozenset[str] = frozenset(get_args(PollErrorKind))
_NO_VEHICLES: Mapping[str, VehicleInfo] = MappingProxyType({})
_FORECAST_KEY = b'"forecast"'
_WHITESPACE = b" \t\r\n"
_MAX_REPAIRS = 4
_DECODER = json.JSONDecoder()

Poll = SiteState | PollError


@dataclass(frozen=True, slots=True)
class _ForecastMemo:
    raw: Any  # the validated forecast dict the tariffs were made from
    region: bytes | None  # its exact bytes in the body, when they could be located
    tariffs: Tariffs


class StateParser:
    """Parses evcc bodies; remembers the last forecast and vehicles map it converted.

    The memo only saves work: results are the same as with a fresh parser. One parser
    may be shared (each memo update is a single atomic assignment).
    """

    def __init__(self) -> None:
        self._forecast = _ForecastMemo(raw=None, region=None, tariffs=Tariffs())
        self._vehicles: tuple[Any, Mapping[str, VehicleInfo]] = (None, _NO_VEHICLES)

    # -- public -------------------------------------------------------------------------

    def parse_state(self, raw: bytes | str | Mapping[str, Any], at: datetime) -> Poll:
        """A `/api/state` body (any evcc version, REST or folded websocket) at time `at`."""
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        try:
            if isinstance(raw, bytes | bytearray | memoryview | str):
                body = raw.encode() if isinstance(raw, str) else bytes(raw)
                return self._state_fast(body, at)
            return self._tolerant(raw, at, owned=False)
        except Exception as exc:  # a parser bug must not end the poll stream
            return PollError(at, "parse", f"not an evcc state: parser failed ({type(exc).__name__})")

    def parse_recording_line(self, line: bytes | str) -> tuple[datetime, Poll]:
        """`{"t": ..., "state": {...}}` or `{"t": ..., "error": "..."}` in one pass."""
        try:
            return self._line_fast(line.encode() if isinstance(line, str) else bytes(line))
        except Exception as exc:  # a parser bug must not end a replay
            return UNKNOWN_TIME, PollError(
                UNKNOWN_TIME, "parse", f"recording line: parser failed ({type(exc).__name__})"
            )

    # -- fast path ----------------------------------------------------------------------

    def _adapter_for(self, body: bytes, lean: TypeAdapter[Any], full: TypeAdapter[Any]) -> tuple[
        TypeAdapter[Any], list[int], Tariffs | None
    ]:
        starts = _forecast_starts(body)
        if not starts:
            return lean, starts, Tariffs()
        memo = self._forecast
        if memo.region is not None and any(body.startswith(memo.region, p) for p in starts):
            return lean, starts, memo.tariffs
        return full, starts, None

    def _state_fast(self, body: bytes, at: datetime) -> Poll:
        adapter, starts, tariffs = self._adapter_for(body, r.STATE_LEAN, r.STATE)
        try:
            state = adapter.validate_json(body)
        except ValidationError:
            return self._state_slow(body, at)
        return self._site(state, at, body, starts, tariffs) or self._state_slow(body, at)

    def _line_fast(self, body: bytes) -> tuple[datetime, Poll]:
        adapter, starts, tariffs = self._adapter_for(body, r.LINE_LEAN, r.LINE)
        try:
            record = adapter.validate_json(body)
        except ValidationError:
            return self._line_slow(body)
        at = r.utc_time(record.get("t"))
        if at is None:
            return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", 'recording line: no valid "t"')
        if record.get("error") is not None:
            return at, _recorded_error(at, record["error"], record.get("kind"))
        state = record.get("state")
        if state is None:
            return at, PollError(at, "parse", 'recording line: neither "state" nor "error"')
        return at, self._site(state, at, body, starts, tariffs) or self._line_slow(body)[1]

    def _site(
        self, state: dict[str, Any], at: datetime, body: bytes, starts: list[int], tariffs: Tariffs | None
    ) -> SiteState | None:
        """A SiteState from a validated state, or None to leave it to the slow path."""
        site = _unwrap(state)
        if "loadpoints" not in site and (may_have_flat_keys(body) or not _usable(site)):
            return None
        if tariffs is None:
            tariffs = self._tariffs_for(site.get("forecast"), body, starts)
        return self._build(site, at, tariffs)

    # -- tolerant path ------------------------------------------------------------------

    def _state_slow(self, body: bytes, at: datetime) -> Poll:
        data, problem = _loads(body)
        if problem is not None:
            return PollError(at, "parse", problem)
        return self._tolerant(data, at, owned=True)

    def _line_slow(self, body: bytes) -> tuple[datetime, Poll]:
        data, problem = _loads(body)
        if problem is not None:
            return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", f"recording line: {problem}")
        if not isinstance(data, dict):
            kind = _json_kind(data)
            return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", f"recording line: a JSON {kind}")
        at = r.utc_time(data.get("t"))
        if at is None:
            return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", 'recording line: no valid "t"')
        if data.get("error") is not None:
            return at, _recorded_error(at, data["error"], data.get("kind"))
        if data.get("state") is None:
            return at, PollError(at, "parse", 'recording line: neither "state" nor "error"')
        return at, self._tolerant(data["state"], at, owned=True)

    def _tolerant(self, data: Any, at: datetime, *, owned: bool) -> Poll:
        if not isinstance(data, Mapping):
            return PollError(at, "parse", f"not an evcc state: a JSON {_json_kind(data)}, not an object")
        if has_flat_keys(data):
            data, owned = fold_frames([data]), False
        for _ in range(_MAX_REPAIRS):
            try:
                state = r.STATE.validate_python(data)
            except ValidationError as exc:
                if not owned:
                    data, owned = copy.deepcopy(dict(data)), True
                errors = exc.errors(include_url=False)
                if not any([_null_at(data, error["loc"]) for error in errors]):
                    return PollError(at, "parse", f"not an evcc state: {_describe(errors[0])}")
                continue
            site = _unwrap(state)
            if "loadpoints" not in site and not _usable(site):
                return PollError(at, "parse", f"not an evcc state: {_why_unusable(data)}")
            return self._build(site, at, self._tariffs_for(site.get("forecast"), b"", []))
        return PollError(at, "parse", "not an evcc state: still invalid after repairs")

    # -- normalisation ------------------------------------------------------------------

    def _tariffs_for(self, forecast: Any, body: bytes, starts: list[int]) -> Tariffs:
        memo = self._forecast
        if forecast is not None and forecast == memo.raw:
            tariffs = memo.tariffs
        elif isinstance(forecast, dict):
            tariffs = Tariffs(
                grid=r.rates_from_raw(forecast.get("grid")),
                feedin=r.rates_from_raw(forecast.get("feedin")),
                solar=r.solar_from_raw(forecast.get("solar")),
            )
        else:
            return Tariffs()
        self._forecast = _ForecastMemo(forecast, _locate(body, starts, forecast), tariffs)
        return tariffs

    def _vehicles_for(self, raw: dict[str, Any] | None) -> Mapping[str, VehicleInfo]:
        if not raw:
            return _NO_VEHICLES
        last_raw, last = self._vehicles
        if raw == last_raw:
            return last
        vehicles = MappingProxyType(
            {name: _vehicle(name, entry) for name, entry in raw.items() if entry is not None}
        )
        self._vehicles = (raw, vehicles)
        return vehicles

    def _build(self, site: dict[str, Any], at: datetime, tariffs: Tariffs) -> SiteState:
        grid = site.get("grid")
        grid_power = grid.get("power") if grid else None
        loadpoints = site.get("loadpoints") or ()
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
            loadpoints=tuple([_loadpoint(i, lp) for i, lp in enumerate(loadpoints) if lp is not None]),
            vehicles=self._vehicles_for(site.get("vehicles")),
        )


def _loadpoint(index: int, lp: dict[str, Any]) -> LoadpointState:
    get = lp.get
    return LoadpointState(
        id=index + 1,
        title=get("title") or "",
        mode=_MODES.get(get("mode")),  # type: ignore[arg-type]
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
    elif isinstance(devices, list) and None in (power, soc, capacity):
        listed = [d for d in devices if isinstance(d, dict)]
        powers = [p for d in listed if (p := r.number(d.get("power"))) is not None]
        capacities = [c for d in listed if (c := r.number(d.get("capacity"))) is not None]
        socs = [s for d in listed if (s := r.number(d.get("soc"))) is not None]
        power = _first(power, sum(powers) if powers else None)
        capacity = _first(capacity, sum(capacities) if capacities else None)
        soc = _first(soc, _mean_soc(listed, socs))
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


def _mean_soc(devices: list[dict[str, Any]], socs: list[float]) -> float | None:
    """Capacity-weighted SoC of several batteries, or the plain mean without capacities."""
    pairs = [(r.number(d.get("soc")), r.number(d.get("capacity"))) for d in devices]
    weighted = [(s, c) for s, c in pairs if s is not None and c]
    if weighted and len(weighted) == len(socs):
        return sum(s * c for s, c in weighted) / sum(c for _, c in weighted)  # type: ignore[misc]
    return sum(socs) / len(socs) if socs else None


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


def _unwrap(state: dict[str, Any]) -> dict[str, Any]:
    inner = state.get("result")
    return inner if "loadpoints" not in state and isinstance(inner, dict) else state


def _usable(site: dict[str, Any]) -> bool:
    return isinstance(site.get("loadpoints"), list) or not r.SITE_KEYS.isdisjoint(site)


def _why_unusable(data: Mapping[Any, Any]) -> str:
    body = data.get("result") if isinstance(data.get("result"), Mapping) else data
    keys = sorted(str(key) for key in body)
    if not keys:
        return "an empty object"
    if keys == ["forecast"]:
        return "only a forecast (a websocket forecast shard alone?)"
    if "rates" in keys:
        return 'a tariff body ({"rates": [...]}), use parse_tariff'
    shown = ", ".join(key[:40] for key in keys[:6]) + (", ..." if len(keys) > 6 else "")
    return f"no loadpoints and no site keys (keys: {shown})"


def _forecast_starts(body: bytes) -> list[int]:
    """Offsets of the values of every `"forecast"` key (a key cannot occur in a string)."""
    starts: list[int] = []
    end = len(body)
    position = body.find(_FORECAST_KEY)
    while position >= 0:
        i = position + len(_FORECAST_KEY)
        while i < end and body[i] in _WHITESPACE:
            i += 1
        if i < end and body[i] == 0x3A:  # ':'
            i += 1
            while i < end and body[i] in _WHITESPACE:
                i += 1
            starts.append(i)
        position = body.find(_FORECAST_KEY, i)
    return starts


def _locate(body: bytes, starts: list[int], forecast: dict[str, Any]) -> bytes | None:
    """The exact bytes of the top-level forecast value, if exactly one candidate is it.

    Nested `"forecast"` keys exist (battery.forecast since 0.31x); a candidate is the one
    when it decodes to the same grid, feedin and solar. A forecast without any of those
    is not located: it could not be told from a nested one.
    """
    if not any(forecast.get(key) is not None for key in ("grid", "feedin", "solar")):
        return None
    found: list[bytes] = []
    for start in starts:
        try:
            text = body[start:].decode()
            value, end = _DECODER.raw_decode(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and all(
            value.get(key) == forecast.get(key) for key in ("grid", "feedin", "solar")
        ):
            found.append(text[:end].encode())
    return found[0] if len(found) == 1 else None


def _loads(body: bytes) -> tuple[Any, str | None]:
    """The decoded JSON value, or None and a one-line message saying why it is not JSON."""
    try:
        return json.loads(body), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at line {exc.lineno} col {exc.colno}"
    except UnicodeDecodeError as exc:
        return None, f"not JSON: invalid UTF-8 at byte {exc.start}"
    except RecursionError:
        return None, "not JSON: nested too deeply"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _null_at(data: Any, loc: tuple[int | str, ...]) -> bool:
    """Set the value at pydantic's error location to None; False if there is none."""
    if not loc:
        return False
    if loc[-1] == "[key]":  # an unusable dict key: drop the entry
        parent = _walk(data, loc[:-2])
        if isinstance(parent, dict) and loc[-2] in parent:
            del parent[loc[-2]]
            return True
        return False
    parent = _walk(data, loc[:-1])
    last = loc[-1]
    if isinstance(parent, dict) and last in parent and parent[last] is not None:
        parent[last] = None
        return True
    if isinstance(parent, list) and isinstance(last, int) and -len(parent) <= last < len(parent):
        if parent[last] is not None:
            parent[last] = None
            return True
    return False


def _walk(data: Any, path: tuple[int | str, ...]) -> Any:
    for step in path:
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and -len(data) <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())) or "body"
    return f"{where}: {error.get('msg', 'invalid')}"


def _recorded_error(at: datetime, error: Any, kind: Any) -> PollError:
    """A failed poll from a recording; `kind` or a "<kind>: " prefix gives its kind."""
    message = error if isinstance(error, str) else json.dumps(error, default=str)
    if kind not in _KINDS:
        prefix, sep, rest = message.partition(":")
        kind, message = (prefix, rest.strip()) if sep and prefix in _KINDS else ("http", message)
    return PollError(at, kind, " ".join(message.split())[:500])


def _tariff_rates(data: Any) -> tuple[Rate, ...]:
    if isinstance(data, dict) and isinstance(data.get("result"), dict | list) and len(data) == 1:
        data = data["result"]  # before evcc 0.207
    rates = data.get("rates") if isinstance(data, dict) else data
    if not isinstance(rates, list):
        raise ValueError('not a tariff body: expected {"rates": [...]}')
    return r.rates_from_raw(rates)


def parse_tariff(raw: bytes | str | Mapping[str, Any]) -> tuple[Rate, ...]:
    """Rates from a `GET /api/tariff/{grid,feedin,solar,...}` body, sorted by start.

    Accepts the `result` wrapper, `price` or `value`, objects or compact arrays; unusable
    entries are dropped. Raises ValueError (one line) if the body is not a tariff at all.
    """
    if isinstance(raw, Mapping):
        return _tariff_rates(dict(raw))
    data, problem = _loads(raw.encode() if isinstance(raw, str) else raw)
    if problem is not None:
        raise ValueError(f"not a tariff body: {problem}")
    return _tariff_rates(data)


_DEFAULT = StateParser()


def parse_state(raw: bytes | str | Mapping[str, Any], at: datetime) -> Poll:
    """Parse one evcc state body with the shared default parser. Never raises.

    Returns PollError(kind="parse") for a body that is not a usable state; a websocket
    forecast shard alone is one of those (fold it into a welcome frame first).
    """
    return _DEFAULT.parse_state(raw, at)


def parse_recording_line(line: bytes | str) -> tuple[datetime, Poll]:
    """Parse one recording line with the shared default parser. Never raises.

    The time is the line's "t" in UTC, or UNKNOWN_TIME if it has none.
    """
    return _DEFAULT.parse_recording_line(line)
