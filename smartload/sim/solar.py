"""PV from a clear-sky model: sun position, Haurwitz irradiance, a tilted plane and clouds.

No irradiance data is involved, so no data licence is. Clouds are seeded per day, so a
day looks the same whatever step size drives the model.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from smartload.sim.days import Day
from smartload.sim.scenario import PvSpec

_ALBEDO = 0.2
_BEAM_SHARE = 0.75


def sun_position(epoch_s: NDArray[np.floating[Any]], latitude: float, longitude: float) -> tuple[
    NDArray[np.float64], NDArray[np.float64]
]:
    """Cosine of the zenith angle and azimuth (radians from south, west positive)."""
    days = epoch_s / 86400.0
    # Fractional year (NOAA), measured from 1 January of the respective year.
    year_start = np.floor((days - 0.25) / 365.25) * 365.25 + 0.25
    gamma = 2 * math.pi / 365.0 * (days - year_start)
    eqtime = 229.18 * (0.000075 + 0.001868 * np.cos(gamma) - 0.032077 * np.sin(gamma)
                       - 0.014615 * np.cos(2 * gamma) - 0.040849 * np.sin(2 * gamma))
    decl = (0.006918 - 0.399912 * np.cos(gamma) + 0.070257 * np.sin(gamma)
            - 0.006758 * np.cos(2 * gamma) + 0.000907 * np.sin(2 * gamma)
            - 0.002697 * np.cos(3 * gamma) + 0.00148 * np.sin(3 * gamma))
    utc_minutes = (epoch_s % 86400.0) / 60.0
    true_solar = utc_minutes + eqtime + 4.0 * longitude
    hour_angle = np.radians(true_solar / 4.0 - 180.0)
    lat = math.radians(latitude)
    cos_zenith = math.sin(lat) * np.sin(decl) + math.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    azimuth = np.arctan2(np.sin(hour_angle), np.cos(hour_angle) * math.sin(lat) - np.tan(decl) * math.cos(lat))
    return cos_zenith, azimuth


def clear_sky_power_w(epoch_s: NDArray[np.floating[Any]], spec: PvSpec, latitude: float, longitude: float
                      ) -> NDArray[np.float64]:
    """PV AC power under a clear sky for the plane the spec describes."""
    cos_z, azimuth = sun_position(epoch_s, latitude, longitude)
    up = cos_z > 0.01
    cz = np.where(up, cos_z, 1.0)
    ghi = np.where(up, 1098.0 * cz * np.exp(-0.059 / cz), 0.0)
    tilt = math.radians(spec.tilt_deg)
    sin_z = np.sqrt(np.clip(1.0 - cz * cz, 0.0, 1.0))
    cos_incidence = cz * math.cos(tilt) + sin_z * math.sin(tilt) * np.cos(azimuth - math.radians(spec.azimuth_deg))
    beam_ratio = np.clip(np.maximum(cos_incidence, 0.0) / cz, 0.0, 5.0)
    poa = ghi * (_BEAM_SHARE * beam_ratio + (1 - _BEAM_SHARE) * (1 + math.cos(tilt)) / 2
                 + _ALBEDO * (1 - math.cos(tilt)) / 2)
    return np.asarray(spec.kwp * poa * spec.performance_ratio, dtype=np.float64)


def _cloud_factor(cover: NDArray[np.float64]) -> NDArray[np.float64]:
    # Linear attenuation, tuned so a mean cover of 0.55 yields about 1000 kWh/kWp a year in
    # Germany (an overcast sky still lets 15 % through as diffuse light).
    return np.asarray(1.0 - 0.85 * cover, dtype=np.float64)


class SolarModel:
    """Per-minute PV power of a local day and a 15-minute forecast, cached per day."""

    def __init__(self, spec: PvSpec, latitude: float, longitude: float, seed: int) -> None:
        self._spec = spec
        self._lat = latitude
        self._lon = longitude
        self._seed = seed
        self.minutes = lru_cache(maxsize=4)(self._minutes)
        self.forecast_slots = lru_cache(maxsize=8)(self._forecast_slots)

    def _day_cover(self, day: Day) -> tuple[float, NDArray[np.float64]]:
        rng = np.random.default_rng([self._seed, day.date.toordinal(), 1])
        # Central European winters are cloudier than summers; mid-January is the peak.
        season = math.cos(2 * math.pi * (day.date.timetuple().tm_yday - 15) / 365.25)
        mean = self._spec.cloudiness + self._spec.cloud_seasonality * season
        mean = min(1.0, max(0.0, mean))
        if mean <= 0.0:
            return 0.0, np.zeros(100)
        if mean >= 1.0:
            return 1.0, np.ones(100)
        level = float(rng.beta(mean * 4.0, (1.0 - mean) * 4.0))
        ar = np.empty(100)
        ar[0] = rng.normal()
        for i in range(1, 100):
            ar[i] = 0.8 * ar[i - 1] + 0.6 * rng.normal()
        return level, np.clip(level + 0.25 * ar, 0.0, 1.0)

    def _minutes(self, day: Day) -> list[float]:
        """PV power in W for each minute of the day (actual weather, with cloud noise)."""
        n = day.minutes
        epoch = day.start + 60.0 * np.arange(n) + 30.0
        clear = clear_sky_power_w(epoch, self._spec, self._lat, self._lon)
        _, cover = self._day_cover(day)
        slots = np.arange(n) / 15.0
        per_minute = np.interp(slots, np.arange(len(cover)), cover)
        return [float(v) for v in clear * _cloud_factor(per_minute)]

    def _forecast_slots(self, day: Day) -> list[float]:
        """Expected PV power in W per 15-minute slot: the day's cloud level, no noise,
        missed by the spec's forecast error (its own random stream: the weather stays)."""
        count = int((day.end - day.start) // 900)
        epoch = day.start + 900.0 * np.arange(count) + 450.0
        level, _ = self._day_cover(day)
        if self._spec.forecast_error > 0:
            rng = np.random.default_rng([self._seed, day.date.toordinal(), 3])
            level = min(1.0, max(0.0, level + self._spec.forecast_error * float(rng.normal())))
        clear = clear_sky_power_w(epoch, self._spec, self._lat, self._lon)
        return [float(v) for v in clear * _cloud_factor(np.full(count, level))]
