"""The normalised view `smartload inspect` prints, and inspect_file's refusals."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from smartload.evcc.state import StateParser
from smartload.evcc.view import inspect_file, normalised_view
from tests.fixtures_evcc import AT, STATE_0207, WS_FORECAST_GRID, WS_WELCOME, body


def view_of(name: str) -> dict:
    state = StateParser().parse_state(body(name), AT)
    return normalised_view(state)  # type: ignore[arg-type]


def test_site_battery_and_tariffs() -> None:
    view = view_of(STATE_0207)
    assert (view["at"], view["evcc_version"], view["currency"]) == ("2025-09-08T10:00:00Z", "0.207.5", "EUR")
    assert view["site"] == {"grid_power_w": 2875.972497154853, "pv_power_w": 8475.242, "home_power_w": 500.0}
    assert view["battery"] == {
        "power_w": 188.786, "soc_pct": 31.0, "capacity_kwh": 13.4, "mode": "charge", "discharge_control": True,
        "grid_charge_limit": 0.25, "buffer_soc_pct": 75.0, "buffer_start_soc_pct": 0.0, "priority_soc_pct": 50.0,
        "controllable": True,
    }  # fmt: skip
    assert view["tariffs"] == {
        "grid_price": 0.211,
        "feedin_price": 0.08,
        "forecast": {
            "grid": {"slots": 24, "first_start": "2025-09-07T22:00:00Z", "last_end": "2025-09-08T22:00:00Z",
                     "min": 0.21084, "max": 0.56366, "unit": "EUR/kWh"},
            "feedin": {"slots": 0, "first_start": None, "last_end": None, "min": None, "max": None,
                       "unit": "EUR/kWh"},
            "solar": {"slots": 72, "first_start": "2025-09-07T22:00:00Z", "last_end": "2025-09-10T22:00:00Z",
                      "min": 0.0, "max": 15372.0, "unit": "W"},
        },
    }  # fmt: skip


def test_loadpoints_and_vehicles() -> None:
    view = view_of(STATE_0207)
    assert view["loadpoints"][0] == {
        "id": 1, "title": "Carport", "device": None, "vehicle": "vehicle_1", "vehicle_title": "blauer e-Golf",
        "guest": False, "detection_active": False, "identified_vehicle": "vehicle_1", "disabled": False,
        "connected": True, "charging": False, "enabled": False, "charge_power_w": 0.0, "soc_pct": 48.3, "mode": "pv",
        "limit_soc_pct": 80.0, "effective_limit_soc_pct": 80.0, "min_current_a": 6.0, "max_current_a": 15.0,
        "phases_configured": 1, "phases_active": 1, "smart_cost_limit": 0.0, "session_energy_wh": 1182321.351,
        "temperature_c": None, "target_temperature_c": None,
    }  # fmt: skip
    assert [lp["mode"] for lp in view["loadpoints"]] == ["pv", "now"]
    assert list(view["vehicles"]) == ["vehicle_1", "vehicle_2", "vehicle_3", "vehicle_4", "vehicle_5"]
    assert view["vehicles"]["vehicle_2"] == {
        "title": "weißes Model 3", "capacity_kwh": 80.0, "min_soc_pct": 40.0, "limit_soc_pct": 80.0,
        "plan": {"soc_pct": 80.0, "time": "2025-09-08T06:00:00Z"}, "features": [],
    }  # fmt: skip
    assert view["vehicles"]["vehicle_1"]["plan"] is None


def test_guest_of_the_welcome_frame_and_json_ready() -> None:
    view = view_of(WS_WELCOME)
    pool = view["loadpoints"][2]
    assert (pool["title"], pool["device"], pool["vehicle"], pool["guest"], pool["identified_vehicle"]) == (
        "Pool Pumpe", "integrated", None, False, None)
    assert view["battery"]["capacity_kwh"] == 8.82
    assert json.loads(json.dumps(view)) == view


def test_inspect_file_stamps_the_file_time(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(body(STATE_0207))
    os.utime(path, (1757325600, 1757325600))
    view = inspect_file(path)
    assert view["at"] == "2025-09-08T10:00:00Z"
    assert view == view_of(STATE_0207)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (body(WS_FORECAST_GRID), "not an evcc state: only a forecast (a websocket forecast shard alone?)"),
        (b"<html>", "not an evcc state: not JSON: Expecting value at line 1 col 1"),
        (b"[]", "not an evcc state: a JSON list, not an object"),
    ],
)
def test_inspect_file_refuses_what_is_not_a_state(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        inspect_file(path)
    assert str(caught.value) == f"{path}: {why}"


def test_inspect_file_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(ValueError) as caught:
        inspect_file(path)
    assert str(caught.value) == f"{path}: not an evcc state: cannot read it (No such file or directory)"
