"""What energy left at the horizon's end is worth, from what the plan can expect after it.

The horizon ends where the known prices end (midnight, local), but the site goes on. A
flat value per kWh left in the battery (a quantile of the horizon's prices) keeps the
same share of the battery at every midnight whether the night needs it or not; where the
next day's PV refills the battery, that energy only pushes PV into the grid at the
feed-in price. Here the day after the horizon is expected to repeat the horizon's last
day (the same quarter-hour a day earlier: prices, PV and house load), and each kWh left is
worth what it saves there:

- the battery: its kWh cover the expected deficits (house load above PV) after the end,
  each at its price x discharge efficiency - wear, or at the cost of a cheaper refill
  before it; PV surplus covers later deficits first, and once it would fill the battery
  the rest is worth what that PV would fetch in the grid (feed-in / charge efficiency).
  Valued greedily, highest first: a concave value of the energy left, a few LP columns;
- a car that leaves after the horizon: its kWh beyond what it must have by then are
  worth the cheapest expected price until it leaves (or a day), over charge efficiency.

A time of day the horizon does not reach (a horizon under a day, before the next day's
prices are out) is expected at the fallback price (the quantile) with the horizon's mean
house load and no PV.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from smartload.planner.lp import FloatArray

SLOT_H = 0.25
DAY_SLOTS = 96


@dataclass(frozen=True)
class AfterHorizon:
    """The expected day after the horizon, per quarter-hour from its end: import and
    export prices (EUR/kWh) and house load minus PV (kWh; > 0: a deficit)."""

    end: datetime
    import_eur_per_kwh: FloatArray
    export_eur_per_kwh: FloatArray
    net_kwh: FloatArray


def after_horizon(now: datetime, ends: list[datetime], p_imp: FloatArray, p_exp: FloatArray,
                  pv_kwh: FloatArray, house_kwh: FloatArray, dur_h: FloatArray, fallback_eur_per_kwh: float
                  ) -> AfterHorizon:
    """ends: each horizon slot's end; the slots run contiguously from now."""
    end = ends[-1]
    ends_s = np.array([(e - now).total_seconds() for e in ends])
    # The middle of each quarter-hour after the end, a day earlier, in seconds from now.
    back_s = (end - now).total_seconds() + (np.arange(DAY_SLOTS) + 0.5) * SLOT_H * 3600.0 - 86400.0
    index = np.searchsorted(ends_s, back_s, side="right")
    known = back_s >= 0.0
    i = np.where(known, np.minimum(index, ends_s.size - 1), 0)
    per_slot = SLOT_H / dur_h[i]
    house_mean = float(house_kwh.sum() / dur_h.sum()) * SLOT_H if dur_h.sum() > 0 else 0.0
    return AfterHorizon(
        end=end,
        import_eur_per_kwh=np.where(known, p_imp[i], fallback_eur_per_kwh),
        export_eur_per_kwh=np.where(known, p_exp[i], float(np.min(p_exp)) if p_exp.size else 0.0),
        net_kwh=np.where(known, (house_kwh[i] - pv_kwh[i]) * per_slot, house_mean),
    )


def battery_end_values(after: AfterHorizon, eta_c: float, eta_d: float, wear: float, room_kwh: float,
                       grid_charge: bool, beyond_eur_per_kwh: float, floor_eur_per_kwh: float
                       ) -> tuple[FloatArray, FloatArray]:
    """The battery's energy left above its floor as segments (kWh, EUR per kWh stored),
    highest value first, room_kwh long together. beyond_eur_per_kwh values what a day's
    deficits do not use (unless a cheaper refill comes first); floor_eur_per_kwh bounds
    every value from below (model.py: below it the model would need binaries to keep the
    battery from feeding the grid, which evcc cannot make it do)."""
    lengths: list[float] = []
    values: list[float] = []
    refill = np.inf  # a stored kWh bought after the end, at the cheapest slot so far
    pv_stored = 0.0  # PV surplus after the end, waiting in the battery for a later deficit
    residual = None
    for p, x, net in zip(after.import_eur_per_kwh, after.export_eur_per_kwh, after.net_kwh, strict=True):
        if net < 0:
            pv_stored += -net * eta_c
            if pv_stored >= room_kwh:
                residual = x / eta_c  # PV fills it: a kWh left only sends that PV to the grid
                break
        else:
            need = net / eta_d - min(pv_stored, net / eta_d)
            pv_stored = max(0.0, pv_stored - net / eta_d)
            if need > 0:
                lengths.append(need)
                values.append(min(eta_d * p - wear, refill))
        if grid_charge:
            refill = min(refill, p / eta_c + wear)
    if residual is None:
        residual = min(refill, beyond_eur_per_kwh)
    lengths.append(room_kwh)
    values.append(residual)
    v = np.maximum(np.asarray(values), floor_eur_per_kwh)
    order = np.argsort(-v, kind="stable")
    v, kwh = v[order], np.asarray(lengths)[order]
    # room_kwh long together: what lies beyond cannot be stored.
    kwh = np.clip(room_kwh - np.r_[0.0, np.cumsum(kwh)[:-1]], 0.0, kwh)
    out_kwh: list[float] = []
    out_v: list[float] = []
    for k, value in zip(kwh, v, strict=True):
        if k <= 1e-9:
            continue
        if out_v and abs(out_v[-1] - value) < 1e-6:  # equal values need one column
            out_kwh[-1] += k
        else:
            out_kwh.append(float(k))
            out_v.append(float(value))
    return np.asarray(out_kwh), np.asarray(out_v)


def car_end_value(after: AfterHorizon, departure: datetime | None, eta_c: float) -> float:
    """EUR per kWh in the car: the cheapest expected price from the end until it leaves
    (a day at most), over charge efficiency."""
    count = DAY_SLOTS
    if departure is not None:
        count = int(np.clip(np.ceil((departure - after.end) / timedelta(minutes=15)), 1, DAY_SLOTS))
    return max(0.0, float(np.min(after.import_eur_per_kwh[:count]))) / eta_c
