"""How much longer a car takes to its target when it draws less near full.

Many cars draw their full power only up to some SoC and then less and less: in the
simple model this module uses (and the simulator plays), linearly down to nothing at
100 %. The planner charges at full power, so the plan handed to it ends this much before
the real departure: the slow last percent then still fits. Re-planning on every tick
corrects the rest (a car that took less than planned gets more slots).
"""

from __future__ import annotations

import math
from datetime import timedelta

# Near 100 % the model's power goes to nothing; no car waits longer than this for the top.
MAX_DELAY = timedelta(hours=3)


def taper_delay(capacity_kwh: float, efficiency: float, max_power_w: float, soc_pct: float,
                target_pct: float, taper_from_pct: float | None) -> timedelta:
    """Extra time to charge from soc_pct to target_pct over full power all the way."""
    if taper_from_pct is None or target_pct <= taper_from_pct or max_power_w <= 0:
        return timedelta(0)
    start = max(soc_pct, taper_from_pct)
    if start >= target_pct:
        return timedelta(0)
    # kWh (at the wallbox) per percent, over the power at full: hours per percent at full power.
    hours_per_pct = capacity_kwh / 100.0 / efficiency / (max_power_w / 1000.0)
    span = 100.0 - taper_from_pct
    full = (target_pct - start) * hours_per_pct
    tapered = span * hours_per_pct * math.log((100.0 - start) / max(100.0 - target_pct, 0.5))
    return min(timedelta(hours=max(0.0, tapered - full)), MAX_DELAY)
