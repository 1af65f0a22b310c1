"""Settings.vehicles_by_evcc_name: the one map from evcc's vehicle names to ours."""

from __future__ import annotations

from smartload.settings import Settings


def test_evcc_names_map_to_vehicle_ids() -> None:
    settings = Settings(vehicles={"zoe": {"capacity_kwh": 52}, "ioniq": {"capacity_kwh": 77, "evcc_name": "db:69"}},
                        battery={"enabled": False})
    assert settings.vehicles_by_evcc_name() == {"zoe": "zoe", "db:69": "ioniq"}
    assert Settings(battery={"enabled": False}).vehicles_by_evcc_name() == {}
