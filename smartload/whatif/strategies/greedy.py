"""Greedy: evcc's own planner. Each car has a charging plan in evcc (target SoC by its
announced departure); evcc picks the cheapest slots for each loadpoint alone (the
simulator's copy of evcc's planner: rates clamped to [now, departure], cheapest first,
ties to the later slot, until the required time is covered) and charges from PV surplus
outside them (mode pv). A shared wallbox goes to the car that was plugged in first; the
next car gets it when a person swaps the plug. A circuit limit serves the car plugged
in first. The battery runs as evcc runs it by default.

evcc's repeating plans are not simulated, so the driver's weekly plan becomes one static
plan per departure, posted once the previous one has passed (each post counts as a write).
"""

from __future__ import annotations

from datetime import datetime

from smartload.requests import next_departure
from smartload.sim.days import rfc3339
from smartload.sim.site import Site
from smartload.whatif.sessions import Session
from smartload.whatif.strategies.base import Outcome, RunContext, drive_sessions, run_polls


def _plan_path(vehicle: str, soc_pct: float, departure: float) -> str:
    return f"/api/vehicles/{vehicle}/plan/soc/{round(soc_pct)}/{rfc3339(departure)}"


def run(ctx: RunContext) -> Outcome:
    outcome = Outcome()
    port = ctx.port
    inputs = ctx.inputs
    targets = inputs.targets
    tz = inputs.settings.site.tz
    posted: dict[str, datetime] = {}
    refused: list[str] = []

    def post(path: str) -> None:
        error = port.write("POST", path)
        if error is not None:
            refused.append(f"{path}: {error}")

    def session_plan(session: Session, site: Site) -> None:
        plan = inputs.sessions
        assert plan is not None
        vehicle = plan.vehicle(session)
        post(f"/api/loadpoints/{plan.wallbox(session)}/limitsoc/{round(targets[vehicle])}")
        post(_plan_path(vehicle, targets[vehicle], session.announced_departure.timestamp()))

    def weekly_plans(now: datetime) -> None:
        for vehicle, schedule in inputs.announced.items():
            departure = next_departure(now, schedule, tz)
            if departure is None or posted.get(vehicle) == departure:
                continue
            posted[vehicle] = departure
            post(_plan_path(vehicle, targets[vehicle], departure.timestamp()))

    drive_sessions(ctx, session_plan)
    for lp in ctx.site.loadpoints:
        if lp.mode != "pv":
            post(f"/api/loadpoints/{lp.id}/mode/pv")
    run_polls(ctx, weekly_plans)
    if refused:
        outcome.notes.append(f"evcc refused {len(refused)} writes, first: {refused[0]}")
    return outcome
