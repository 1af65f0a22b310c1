"""One readable line about the whole site, logged once per simulated hour."""

from __future__ import annotations

from smartload.sim.site import Site


def summary(site: Site) -> str:
    parts = [f"{site.local()}: PV {site.pv_w / 1000:.1f} kW, house {site.house_w / 1000:.1f} kW"]
    if site.battery is not None:
        power = site.battery_discharge_w - site.battery_charge_w
        parts.append(f"battery {site.battery.soc_pct:.0f} % ({power / 1000:+.1f} kW, {site.control.mode})")
    grid = site.grid_w
    parts.append(f"grid {'import' if grid >= 0 else 'export'} {abs(grid) / 1000:.1f} kW "
                 f"at {site.tariff.price_at(site.t):.3f} EUR/kWh")
    for lp in site.loadpoints:
        v = lp.vehicle
        if lp.device is not None:
            state = f"heating {lp.charge_power_w / 1000:.1f} kW" if lp.charging else "idle"
            boost = ", boost" if lp.enabled else ""
            parts.append(f"lp{lp.id} heat pump {lp.device.temp_c:.1f} °C ({lp.mode}{boost}) {state}")
            continue
        if v is None:
            parts.append(f"lp{lp.id} free")
            continue
        who = lp.vehicle_name or ("detecting" if lp.detection_active else "guest")
        state = f"charging {lp.charge_power_w / 1000:.1f} kW" if lp.charging else "idle"
        parts.append(f"lp{lp.id} {v.name} (evcc: {who}, {lp.mode}) {state}, SoC {v.soc_pct:.0f} %")
    return "; ".join(parts)
