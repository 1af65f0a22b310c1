"""Uncontrolled: every car charges at full power from plug-in (evcc mode "now") until its
limit; the home battery runs as evcc runs it by default."""

from __future__ import annotations

from datetime import datetime

from smartload.sim.site import Site
from smartload.whatif.sessions import Session
from smartload.whatif.strategies.base import Outcome, RunContext, drive_sessions, run_polls


def run(ctx: RunContext) -> Outcome:
    outcome = Outcome()
    port = ctx.port
    targets = ctx.inputs.targets

    def session_limit(session: Session, site: Site) -> None:
        # The driver sets the session's limit to what they asked for.
        plan = ctx.inputs.sessions
        assert plan is not None
        port.write("POST", f"/api/loadpoints/{plan.wallbox(session)}/limitsoc/{round(targets[plan.vehicle(session)])}")

    drive_sessions(ctx, session_limit)
    for lp in ctx.site.loadpoints:
        error = port.write("POST", f"/api/loadpoints/{lp.id}/mode/now")
        if error is not None:
            raise RuntimeError(f"evcc refused mode now at loadpoint {lp.id}: {error}")

    def nothing(_: datetime) -> None:
        return None

    run_polls(ctx, nothing)
    return outcome
