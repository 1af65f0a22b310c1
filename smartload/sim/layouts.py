"""Older evcc API layouts, derived from the current one at the versions evcc changed them.

- 0.314: forecast slots became [startUnix, endUnix, value] arrays (before: objects).
- 0.301: one battery{} object (before: batteryPower/batterySoc/... keys and a battery[] list).
- 0.207: no {"result": ...} wrapper around REST responses (before: every response wrapped).
- 0.203: rates carry `value` (before: `price`).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from smartload.settings.sim import version_tuple
from smartload.sim.days import rfc3339

ARRAY_FORECAST = (0, 314, 0)
BATTERY_OBJECT = (0, 301, 0)
NO_WRAPPER = (0, 207, 0)
VALUE_KEY = (0, 203, 0)


class Layout:
    def __init__(self, version: str) -> None:
        self.version = version
        self._v = version_tuple(version)

    @property
    def array_forecast(self) -> bool:
        return self._v >= ARRAY_FORECAST

    @property
    def battery_object(self) -> bool:
        return self._v >= BATTERY_OBJECT

    @property
    def wrapped(self) -> bool:
        return self._v < NO_WRAPPER

    @property
    def rate_key(self) -> str:
        return "value" if self._v >= VALUE_KEY else "price"

    def response(self, value: Any) -> Any:
        """A REST response body: wrapped in {"result": ...} before 0.207."""
        return {"result": value} if self.wrapped else value

    def rates(self, rates: list[tuple[float, float, float]], tz: ZoneInfo) -> list[dict[str, Any]]:
        key = self.rate_key
        return [{"start": rfc3339(s, tz), "end": rfc3339(e, tz), key: round(v, 3)} for s, e, v in rates]

    def state(self, current: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
        """Turn a current-layout state into this layout (the input is not modified)."""
        state = dict(current)
        if not self.array_forecast:
            forecast = dict(state["forecast"])
            for name in ("grid", "planner", "feedin"):
                forecast[name] = self.rates([(s, e, v) for s, e, v in forecast[name]], tz)
            solar = dict(forecast["solar"])
            solar["timeseries"] = [{"ts": rfc3339(ts, tz), "val": val} for ts, val in solar["timeseries"]]
            forecast["solar"] = solar
            state["forecast"] = forecast
        if self.rate_key != "value":
            state["loadpoints"] = [self._plan_prices(lp) for lp in state["loadpoints"]]
        if not self.battery_object:
            battery = state.pop("battery", None)
            if battery is None:
                state["battery"] = []
            else:
                state["batteryPower"] = battery["power"]
                state["batterySoc"] = battery["soc"]
                state["batteryCapacity"] = battery["capacity"]
                state["batteryEnergy"] = battery["energy"]
                state["battery"] = [{key: device[key] for key in ("power", "capacity", "soc", "controllable")}
                                    for device in battery["devices"]]
        return state

    @staticmethod
    def _plan_prices(loadpoint: dict[str, Any]) -> dict[str, Any]:
        if not loadpoint.get("plan"):
            return loadpoint
        plan = [{"start": r["start"], "end": r["end"], "price": r["value"]} for r in loadpoint["plan"]]
        return {**loadpoint, "plan": plan}
