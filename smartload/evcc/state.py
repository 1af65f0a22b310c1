"""Version-tolerant parsing of evcc state bodies and recording lines into SiteState.

Nothing here raises for bad input: a body that is not a usable state becomes a
PollError(kind="parse") with a one-line message, so it flows through the poll stream as
a health event. A null or wrong-typed field becomes None (or the field's default)
without spoiling the rest of the state; unknown keys are ignored. A value of the right
type but out of its range (a SoC of 140 %, a current of -16 A, a forecast slot in year
9999) becomes unknown too, and is listed in SiteState.problems (validate.py,
normalise.py). Junk that no JSON reader can hold (nesting hundreds deep, numbers of
thousands of digits) is pruned to null first (repair.py), so it costs that value only.

Fast path: pydantic-core validates the raw bytes against models that declare only the
fields we read (raw.py). Only when that fails does the tolerant path run: `json.loads`,
null each location pydantic complained about, validate again.

The forecast is most of a state body and rarely changes. Once the same forecast has been
seen twice, StateParser remembers its exact bytes; a later body holding those bytes at a
`"forecast"` key has them cut out before validation and reuses the converted Tariffs
(forecast_memo.py). Loadpoints and the vehicles map are reused when their validated
values repeat. Whatever it reuses, a parser's result equals a fresh parser's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, cast

from pydantic import ValidationError

from smartload.domain import LoadpointState, Poll, PollError, SiteState, Tariffs, ValueProblem, VehicleInfo
from smartload.evcc import normalise as n
from smartload.evcc import raw as r
from smartload.evcc.forecast import parse_tariff
from smartload.evcc.forecast_memo import Converted, ForecastMemo
from smartload.evcc.ranges import POWER_W, PRICE, shown
from smartload.evcc.repair import bounded_copy, json_kind, loads, null_at, prune_bytes
from smartload.evcc.validate import ALL_POLLS, bounded, key_path, polls_covering, window
from smartload.evcc.ws import fold_frames, has_flat_keys, may_have_flat_keys

__all__ = ["UNKNOWN_TIME", "StateParser", "parse_recording_line", "parse_state", "parse_tariff"]

# A recording line whose "t" cannot be read still gets a time, so a replay can place it;
# the PollError beside it says what was wrong.
UNKNOWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
# A "t" outside these years is no poll's time; a replay scheduling ticks after one in
# year 9999 would overflow.
_POLL_YEARS = range(1970, 3000)

_NO_VEHICLES: Mapping[str, VehicleInfo] = MappingProxyType({})
_NO_PROBLEMS: tuple[ValueProblem, ...] = ()
_MAX_REPAIRS = 4


class StateParser:
    """Parses evcc bodies, remembering the last forecast, vehicles and loadpoints it built.

    The memo only saves work: results equal those of a fresh parser. A parser may be
    shared; each memo update is one atomic assignment.
    """

    def __init__(self) -> None:
        self._forecast = ForecastMemo()
        # The raw map, the vehicles made from it, their problems, and the polls at which no
        # plan time is out of the poll's window.
        self._vehicles: tuple[Any, Mapping[str, VehicleInfo], tuple[ValueProblem, ...], tuple[datetime, datetime]] = (
            None, _NO_VEHICLES, _NO_PROBLEMS, ALL_POLLS
        )
        self._loadpoints: dict[int, tuple[dict[str, Any], LoadpointState, tuple[ValueProblem, ...]]] = {}

    def parse_state(self, raw: bytes | str | Mapping[str, Any], at: datetime) -> Poll:
        """A `/api/state` body of any evcc version, or a websocket frame, received at `at`."""
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        try:
            if isinstance(raw, bytes | bytearray | memoryview | str):
                body = raw.encode() if isinstance(raw, str) else bytes(raw)
                return self._state_fast(body, at)
            return self._tolerant(bounded_copy(raw), at)  # a copy: repairs must not touch the caller's
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

    def _state_fast(self, body: bytes, at: datetime, *, pruned: bool = False) -> Poll:
        to_validate, starts, known = self._forecast.known(body, at)
        adapter = r.STATE if known is None else r.STATE_LEAN  # lean: the known forecast is cut out
        try:
            state = adapter.validate_json(to_validate)
        except ValidationError as exc:
            smaller = None if pruned else _pruned(body, exc)
            if smaller is not None:
                return self._state_fast(smaller, at, pruned=True)
            return self._state_slow(body, at)
        return self._site(state, at, body, starts, known) or self._state_slow(body, at)

    def _line_fast(self, body: bytes, *, pruned: bool = False, cut: bool = True) -> tuple[datetime, Poll]:
        # The line's time is inside it: whether a known forecast holds then is asked after.
        to_validate, starts, known = self._forecast.known(body, None) if cut else (body, [], None)
        adapter = r.LINE if known is None else r.LINE_LEAN
        try:
            record = adapter.validate_json(to_validate)
        except ValidationError as exc:
            smaller = None if pruned else _pruned(body, exc)
            if smaller is not None:
                return self._line_fast(smaller, pruned=True)
            return self._line_slow(body)
        at, error = _line_header(record)
        if error is not None:
            return at, error
        if known is not None and not known.holds_at(at):
            return self._line_fast(body, pruned=pruned, cut=False)
        state = cast("r.RawState | r.RawStateLean", record["state"])  # not None: _line_header made that an error
        return at, self._site(state, at, body, starts, known) or self._line_slow(body)[1]

    def _site(
        self, state: Mapping[str, Any], at: datetime, body: bytes, starts: list[int], known: Converted | None
    ) -> SiteState | None:
        """A SiteState from a validated body, or None to leave it to the tolerant path."""
        site = r.unwrap(state)
        if "loadpoints" not in site and (may_have_flat_keys(body) or not r.usable(site)):
            return None  # a websocket frame to fold, or a message to explain
        if known is None:
            known = self._forecast.tariffs_for(site.get("forecast"), at, body, starts)
        return self._build(site, at, known)

    # -- tolerant path: decode, then repair until it validates --------------------------

    def _state_slow(self, body: bytes, at: datetime) -> Poll:
        data, problem = loads(body)
        if problem is not None:
            return PollError(at, "parse", problem)
        return self._tolerant(data, at)

    def _line_slow(self, body: bytes) -> tuple[datetime, Poll]:
        data, problem = loads(body)
        if problem is not None or not isinstance(data, dict):
            why = problem or f"a JSON {json_kind(data)}, not an object"
            return UNKNOWN_TIME, PollError(UNKNOWN_TIME, "parse", f"recording line: {why}")
        at, error = _line_header(data)
        return at, error or self._tolerant(data["state"], at)

    def _tolerant(self, data: Any, at: datetime) -> Poll:
        """A decoded body this parser owns (repairs change it in place)."""
        if not isinstance(data, Mapping):
            return PollError(at, "parse", f"not an evcc state: a JSON {json_kind(data)}, not an object")
        if has_flat_keys(data):
            data = fold_frames([data])
        for _ in range(_MAX_REPAIRS):
            try:
                state = r.STATE.validate_python(data)
            except ValidationError as exc:
                errors = exc.errors(include_url=False)
                if not any([null_at(data, error["loc"]) for error in errors]):
                    return PollError(at, "parse", f"not an evcc state: {r.describe_error(errors[0])}")
                continue
            site = r.unwrap(state)
            if "loadpoints" not in site and not r.usable(site):
                return PollError(at, "parse", f"not an evcc state: {r.why_unusable(data)}")
            return self._build(site, at, self._forecast.tariffs_for(site.get("forecast"), at))
        return PollError(at, "parse", "not an evcc state: still invalid after repairs")

    # -- normalisation ------------------------------------------------------------------

    def _vehicles_for(self, raw: dict[str, Any] | None, at: datetime,
                      problems: list[ValueProblem]) -> Mapping[str, VehicleInfo]:
        if not raw:
            return _NO_VEHICLES
        last_raw, vehicles, found, timely = self._vehicles
        if raw != last_raw:  # validated values: their types are fixed, so == is exact
            built: list[ValueProblem] = []
            vehicles = MappingProxyType({name: n.vehicle(name, v, built) for name, v in raw.items() if v is not None})
            plans = [v.plan_time for v in vehicles.values() if v.plan_time is not None]
            found, timely = tuple(built), polls_covering(min(plans), max(plans)) if plans else ALL_POLLS
            self._vehicles = (raw, vehicles, found, timely)
        problems += found
        return vehicles if timely[0] <= at <= timely[1] else _timely_plans(vehicles, at, problems)

    def _loadpoints_for(self, raw: list[dict[str, Any] | None],
                        problems: list[ValueProblem]) -> tuple[LoadpointState, ...]:
        memo, fresh = self._loadpoints, {}
        for index, lp in enumerate(raw):
            if lp is not None:
                last = memo.get(index)
                if last is None or last[0] != lp:
                    built: list[ValueProblem] = []
                    last = (lp, n.loadpoint(index, lp, built), tuple(built))
                fresh[index] = last
                problems += last[2]
        self._loadpoints = fresh
        return tuple([state for _, state, _ in fresh.values()])

    def _build(self, site: Mapping[str, Any], at: datetime, forecast: Converted) -> SiteState:
        problems: list[ValueProblem] = []
        grid = site.get("grid")
        grid_power = bounded(grid.get("power"), POWER_W, "grid", "power", problems) if grid else None
        if grid_power is None:
            grid_power = bounded(site.get("gridPower"), POWER_W, "", "gridPower", problems)
        pv_power = bounded(site.get("pvPower"), POWER_W, "", "pvPower", problems)
        home_power = bounded(site.get("homePower"), POWER_W, "", "homePower", problems)
        tariff_grid = bounded(site.get("tariffGrid"), PRICE, "", "tariffGrid", problems)
        tariff_feedin = bounded(site.get("tariffFeedIn"), PRICE, "", "tariffFeedIn", problems)
        battery = n.battery(site, problems)
        loadpoints = self._loadpoints_for(site.get("loadpoints") or [], problems)
        vehicles = self._vehicles_for(site.get("vehicles"), at, problems)
        tariffs: Tariffs = forecast.rates
        return SiteState(
            at=at,
            version=site.get("version"),
            currency=site.get("currency"),
            grid_power_w=grid_power,
            pv_power_w=pv_power,
            home_power_w=home_power,
            battery=battery,
            tariff_grid=tariff_grid,
            tariff_feedin=tariff_feedin,
            forecast=tariffs,
            loadpoints=loadpoints,
            vehicles=vehicles,
            solar_adjusted=site.get("solarAdjusted"),
            problems=(*problems, *forecast.problems) if problems or forecast.problems else _NO_PROBLEMS,
        )


def _pruned(body: bytes, exc: ValidationError) -> bytes | None:
    """The body without junk no JSON reader holds, when pydantic could not read it as JSON."""
    if any(error["type"] == "json_invalid" for error in exc.errors(include_url=False)):
        return prune_bytes(body)
    return None


def _timely_plans(vehicles: Mapping[str, VehicleInfo], at: datetime,
                  problems: list[ValueProblem]) -> Mapping[str, VehicleInfo]:
    """The vehicles, each plan time far from the poll dropped (it depends on the poll's
    time, so it is checked here, after the memo)."""
    low, high = window(at)
    late = [(v, v.plan_time) for v in vehicles.values() if v.plan_time is not None and not low <= v.plan_time <= high]
    if not late:
        return vehicles
    for v, plan_time in late:
        where = key_path(key_path("vehicles", v.name), "plan")
        problems.append(ValueProblem(f"{where}.time", shown(plan_time.isoformat())))
    changed = {v.name: replace(v, plan_time=None) for v, _ in late}
    return MappingProxyType({name: changed.get(name, v) for name, v in vehicles.items()})


def _line_header(record: Mapping[str, Any]) -> tuple[datetime, PollError | None]:
    """A recording line's time, and its PollError when it holds no state to parse."""
    at = r.utc_time(record.get("t"), cached=False)
    if at is None or at.year not in _POLL_YEARS:
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
