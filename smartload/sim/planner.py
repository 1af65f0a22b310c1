"""evcc's charging planner as the docs describe it: the cheapest slots before the target.

Pure: rates in, planned windows out. Required time is the SoC delta times capacity over
an assumed 85 % efficiency and the charger's maximum power; slots are taken cheapest
first (ties prefer later ones), the partially needed slot is shortened at its start.
Too little time left means charging from now on; the time between the end of the
published prices and the target counts as the most expensive slot (shown at the last
published price, since evcc encodes no infinite price).
"""

from __future__ import annotations

import math

Window = tuple[float, float, float]
PLANNER_EFFICIENCY = 0.85


def required_duration_s(soc_pct: float, target_soc_pct: float, capacity_kwh: float, max_power_w: float) -> float:
    if target_soc_pct <= soc_pct or max_power_w <= 0:
        return 0.0
    energy_wh = (target_soc_pct - soc_pct) / 100.0 * capacity_kwh * 1000.0 / PLANNER_EFFICIENCY
    return energy_wh / max_power_w * 3600.0


def plan(rates: list[Window], now: float, target: float, required_s: float) -> list[Window]:
    """Charging windows (start, end, price) sorted by start; empty when nothing is needed."""
    if required_s <= 0 or target <= now:
        return []
    if target - now <= required_s:
        return [(now, target, _price_at(rates, now))]
    candidates = [(max(s, now), min(e, target), v, v) for s, e, v in rates if e > now and s < target]
    covered_until = max((w[1] for w in candidates), default=now)
    if covered_until < target:
        last = candidates[-1][2] if candidates else 0.0
        candidates.append((covered_until, target, last, math.inf))
    candidates.sort(key=lambda w: (w[3], -w[0]))
    chosen: list[Window] = []
    remaining = required_s
    for start, end, value, _ in candidates:
        if remaining <= 0:
            break
        length = end - start
        if length >= remaining:
            chosen.append((end - remaining, end, value))
            remaining = 0.0
        else:
            chosen.append((start, end, value))
            remaining -= length
    return sorted(chosen)


def active(windows: list[Window], now: float) -> bool:
    return any(start <= now < end for start, end, _ in windows)


def _price_at(rates: list[Window], t: float) -> float:
    for start, end, value in rates:
        if start <= t < end:
            return value
    return rates[-1][2] if rates else 0.0
