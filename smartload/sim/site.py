"""The simulated evcc site: a pure model stepped by a clock passed in.

`step(now, dt_s)` simulates the interval [now - dt_s, now): due events first (trips,
plug-ins, identification), evcc's control cycle every `control.interval_s`, then the
physics, where the battery's inverter answers the surplus and the grid takes the rest,
so pv + import + discharge = house + loadpoints + export + charge holds in every step
(loadpoints: the cars and any heat pump).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from smartload.sim import charge_control
from smartload.sim.battery import BatteryControl, HomeBattery
from smartload.sim.controls import ControlsMixin
from smartload.sim.days import Day, day_of
from smartload.sim.events import EventsMixin
from smartload.sim.house import HouseModel
from smartload.sim.loadpoint import SimLoadpoint
from smartload.sim.prices import DayAheadPrices, GridTariff
from smartload.sim.scenario import Scenario
from smartload.sim.solar import SolarModel
from smartload.sim.vehicle import SimVehicle

log = logger.bind(component="sim")


class Totals:
    """Energy counters in Wh and the grid cost in EUR since the start."""

    __slots__ = ("charge_wh", "cost_eur", "discharge_wh", "export_wh", "house_wh", "import_wh",
                 "loadpoints_wh", "pv_wh", "solar_to_cars_wh")

    def __init__(self) -> None:
        self.pv_wh = self.import_wh = self.export_wh = self.house_wh = 0.0
        self.loadpoints_wh = self.charge_wh = self.discharge_wh = 0.0
        self.cost_eur = self.solar_to_cars_wh = 0.0


class Site(ControlsMixin, EventsMixin):
    def __init__(self, scenario: Scenario, *, start: datetime, seed: int = 1,
                 prices_csv: Path | None = None) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=scenario.tz)
        self.scenario = scenario
        self.tz = scenario.tz
        self.t = start.timestamp()
        self._start = self.t
        self.seed = seed
        self.solar = SolarModel(scenario.pv, scenario.latitude, scenario.longitude, seed)
        self.house = HouseModel(scenario.house, self.tz, seed)
        shipped = DayAheadPrices.shipped(self.tz)
        prices = DayAheadPrices.from_csv(prices_csv, self.tz) if prices_csv else shipped
        self.tariff = GridTariff(scenario.tariff, self.tz, prices, shipped if prices_csv else None)
        self.battery = HomeBattery(scenario.battery) if scenario.battery else None
        c = scenario.control
        self.control = BatteryControl(
            priority_soc=c.priority_soc_pct, buffer_soc=c.buffer_soc_pct, buffer_start_soc=c.buffer_start_soc_pct,
            discharge_control=c.battery_discharge_control, grid_charge_limit=c.battery_grid_charge_limit)
        self.residual_power_w = c.residual_power_w
        # evcc's "adjust the solar forecast to real production" switch: shown, and set by
        # POST /api/solaradjusted; the simulator's own forecast stays as it is.
        self.solar_adjusted = False
        self.interval_s = c.interval_s
        self.loadpoints = [SimLoadpoint(i + 1, spec, scenario.voltage_v) for i, spec in enumerate(scenario.loadpoints)]
        for lp in self.loadpoints:
            if lp.device is not None:
                lp.connected_at = self.t  # evcc connects an integrated device at its start
        self.vehicles = {name: SimVehicle(name, spec, self.tz, seed, self.t)
                         for name, spec in scenario.vehicles.items()}
        self.totals = Totals()
        # last physics step, in W (what evcc "measures")
        self.pv_w = self.house_w = self.grid_w = 0.0
        self.battery_charge_w = self.battery_discharge_w = 0.0
        self.green_share_home = self.green_share_loadpoints = 0.0
        self._next_control = self.t
        self._held: tuple[float | None, float | None] = (None, None)
        self._day: Day = day_of(self.t, self.tz)
        self._pv_minutes: list[float] = []
        self._house_minutes: list[float] = []
        self._load_day(self._day)
        self._measure_start()
        self._init_events()

    # --- clock --------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def step(self, now: datetime, dt_s: float) -> None:
        """Simulate [now - dt_s, now); afterwards the model's time is `now`."""
        self.advance_to(now.timestamp(), dt_s)

    def advance(self, dt_s: float) -> None:
        self.advance_to(self.t + dt_s, dt_s)

    def run_for(self, seconds: float, step_s: float) -> None:
        """Advance by `seconds` in steps of `step_s` (the last one may be shorter)."""
        end = self.t + seconds
        while self.t < end - 1e-9:
            self.advance_to(min(end, self.t + step_s), min(step_s, end - self.t))

    def advance_to(self, t: float, dt_s: float) -> None:
        begin = t - dt_s
        if begin >= self.next_event_at:
            self._process_events(begin)
        if begin >= self._next_control:
            self.control_cycle(begin)
            self._next_control = begin + self.interval_s
        if begin >= self._day.end or begin < self._day.start:
            self._day = day_of(begin, self.tz)
            self._load_day(self._day)
            # evcc starts a new session of a heating device each day (resetHeatingSession).
            for lp in self.loadpoints:
                if lp.device is not None:
                    lp.reset_session()
        self._physics(begin, dt_s)
        self.t = t
        # The state at time t includes everything that happened up to t.
        if t >= self.next_event_at:
            self._process_events(t)

    def request_control(self) -> None:
        """A write arrived: evcc re-evaluates at once rather than at the next interval."""
        self._next_control = self.t

    def _measure_start(self) -> None:
        """evcc's first cycle measures the site as it is: PV and house, nothing charging yet."""
        minute = int((self.t - self._day.start) // 60)
        self.pv_w = self._pv_minutes[minute]
        self.house_w = self._house_minutes[minute]
        self.grid_w = self.house_w - self.pv_w

    def hold(self, *, pv_w: float | None = None, house_w: float | None = None) -> None:
        """Hold PV and/or house power constant (None: back to the models), for tests and what-ifs."""
        self._held = (pv_w, house_w)
        self._load_day(self._day)
        if self.t == self._start:
            self._measure_start()

    def _load_day(self, day: Day) -> None:
        pv_w, house_w = self._held
        self._pv_minutes = self.solar.minutes(day) if pv_w is None else [pv_w] * (day.minutes + 1)
        self._house_minutes = self.house.minutes(day) if house_w is None else [house_w] * (day.minutes + 1)

    # --- physics -------------------------------------------------------------------------

    def _physics(self, begin: float, dt_s: float) -> None:
        minute = int((begin - self._day.start) // 60)
        pv = self._pv_minutes[minute]
        house = self._house_minutes[minute]
        cars = 0.0
        for lp in self.loadpoints:
            if lp.connected:
                cars += lp.draw(dt_s, begin)
            else:
                lp.charge_power_w = 0.0
        surplus = pv - house - cars
        battery = self.battery
        if battery is not None:
            # A battery evcc cannot control runs on its own whatever mode evcc derives.
            mode = self.control.mode if self.battery_control else "normal"
            charge, discharge = battery.flows(surplus, mode, dt_s)
            battery.apply(charge, discharge, dt_s)
        else:
            charge = discharge = 0.0
        grid = charge - discharge - surplus
        self.pv_w, self.house_w, self.grid_w = pv, house, grid
        self.battery_charge_w, self.battery_discharge_w = charge, discharge
        hours = dt_s / 3600.0
        totals = self.totals
        totals.pv_wh += pv * hours
        totals.house_wh += house * hours
        totals.loadpoints_wh += cars * hours
        totals.charge_wh += charge * hours
        totals.discharge_wh += discharge * hours
        price = self.tariff.price_at(begin)
        if grid > 0:
            totals.import_wh += grid * hours
            totals.cost_eur += grid * hours / 1000.0 * price
        else:
            totals.export_wh -= grid * hours
            totals.cost_eur += grid * hours / 1000.0 * self.tariff.feedin
        if cars > 0:
            self._account_charging(cars, house, pv, discharge, charge, price, hours)

    def _account_charging(self, cars: float, house: float, pv: float, discharge: float, charge: float,
                          price: float, hours: float) -> None:
        # evcc's greenShare: the house takes green power first, the cars what is left.
        green = pv + discharge
        non_charge = house + charge
        share = min(max(0.0, green - non_charge), cars) / cars
        self.green_share_loadpoints = share
        feedin = self.tariff.feedin
        for lp in self.loadpoints:
            if lp.charge_power_w > 0:
                kwh = lp.charge_power_w * hours / 1000.0
                lp.session_cost_eur += kwh * (price * (1 - share) + feedin * share)
                lp.session_solar_wh += kwh * 1000.0 * share
        self.totals.solar_to_cars_wh += cars * hours * share

    # --- evcc's control cycle --------------------------------------------------------------

    def control_cycle(self, now: float) -> None:
        control = self.control
        if control.expire(now):
            log.info("{}: external battery mode expired (not re-sent within 60 s)", self.local(now))
        rate = self.tariff.price_at(now)
        wanted = any(lp.charging and (lp.fast_charging or lp.smart_cost_active) for lp in self.loadpoints)
        if self.battery is not None:
            previous = control.mode
            if control.apply(control.required_mode(rate, wanted)):
                log.info("{}: battery mode {} -> {}", self.local(now), previous, control.mode)
        site_power, buffered, start = self._site_power()
        rates_cache: list[list[tuple[float, float, float]]] = []

        def rates() -> list[tuple[float, float, float]]:
            if not rates_cache:
                rates_cache.append(self.tariff.grid_rates(now))
            return rates_cache[0]

        expired: list[str] = []
        circuit = self.scenario.circuit_max_power_w
        granted_w = 0.0
        # With a circuit limit, the car plugged in first is served first.
        order = self.loadpoints if circuit is None else sorted(
            self.loadpoints, key=lambda lp: (not lp.connected, lp.connected_at, lp.id))
        for lp in order:
            ctx = charge_control.Context(now, self.vehicles, rate, rates, site_power, buffered, start, expired)
            before = lp.offered_current if lp.enabled else 0.0
            charge_control.decide(lp, ctx)
            if circuit is not None:
                granted_w += charge_control.clamp_to_circuit(lp, circuit - granted_w)
            after = lp.offered_current if lp.enabled else 0.0
            # The next loadpoint sees the surplus this one is about to take.
            site_power += (after - before) * lp.voltage * lp.phases_active
        for name in expired:
            log.info("{}: the charging plan of {} reached its time and ends (SoC {:.1f} %)", self.local(now), name,
                     self.vehicles[name].soc_pct)
        self._check_swaps(now)

    def _site_power(self) -> tuple[float, bool, bool]:
        """evcc's sitePower (negative = surplus), batteryBuffered and batteryStart."""
        residual = self.residual_power_w
        battery = self.battery
        if battery is None:
            return self.grid_w + residual, False, False
        control = self.control
        soc = battery.soc_pct
        if soc < control.priority_soc and residual <= 0:
            residual = 100.0
        battery_power = self.battery_discharge_w - self.battery_charge_w
        if soc < control.priority_soc and battery_power < 0:
            return self.grid_w + residual, False, False
        buffered = control.buffer_soc > 0 and soc > control.buffer_soc
        start = control.buffer_start_soc > 0 and soc > control.buffer_start_soc
        return self.grid_w + battery_power + residual, buffered, start

    # --- helpers ------------------------------------------------------------------------------

    @property
    def battery_control(self) -> bool:
        """evcc's hasBatteryControl: a battery whose mode evcc can set."""
        return self.battery is not None and self.battery.spec.controllable

    def loadpoint(self, lp_id: int) -> SimLoadpoint:
        if not 1 <= lp_id <= len(self.loadpoints):
            raise LookupError(f"loadpoint {lp_id} does not exist")
        return self.loadpoints[lp_id - 1]

    def vehicle(self, name: str) -> SimVehicle:
        if name not in self.vehicles:
            raise LookupError(f"vehicle {name!r} does not exist")
        return self.vehicles[name]

    def local(self, t: float | None = None) -> str:
        return datetime.fromtimestamp(self.t if t is None else t, self.tz).strftime("%a %Y-%m-%d %H:%M:%S %Z")
