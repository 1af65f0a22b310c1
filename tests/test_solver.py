"""Where the planner runs: on a worker thread the event loop keeps answering beside (the
newest snapshot wins), and a car the planner cannot take is left out, not every car."""

from __future__ import annotations

import asyncio
import threading

from smartload.planner import Plan, PlannerInput, PlannerSettings, make_plan
from smartload.sinks.solver import InlineSolver, Outcome, ThreadSolver, contained
from tests.planner.builders import car, hourly, problem


def _inputs(*names: str) -> PlannerInput:
    return problem(hourly([0.30, 0.10]), [car(name=n, need_kwh=2.0, wallbox=None, allowed_wallboxes=(1,))
                                          for n in names])


def _no_bad(inputs: PlannerInput, settings: PlannerSettings) -> Plan:
    if any(c.name == "bad" for c in inputs.cars):
        raise OverflowError("date value out of range")
    return make_plan(inputs, settings)


def test_a_car_the_planner_cannot_take_is_left_out_and_the_others_are_planned():
    outcome = contained(_no_bad, _inputs("A", "bad", "B"), PlannerSettings())
    assert outcome.plan is not None
    assert sorted(outcome.plan.cars) == ["A", "B"]
    assert outcome.dropped == (("bad", "OverflowError: date value out of range"),)
    assert outcome.error is None


def test_when_even_the_plan_without_the_failing_cars_fails_the_outcome_says_why():
    def broken(inputs: PlannerInput, settings: PlannerSettings) -> Plan:
        raise ValueError("no slots")

    outcome = contained(broken, _inputs("A"), PlannerSettings())
    assert outcome.plan is None
    assert outcome.dropped == (("A", "ValueError: no slots"),)
    assert outcome.error == "ValueError: no slots; without the cars that fail alone: ValueError: no slots"


def test_the_inline_solver_answers_at_once():
    got: list[Outcome] = []
    InlineSolver().submit(_inputs("A"), PlannerSettings(), got.append)
    assert [sorted(o.plan.cars) for o in got if o.plan] == [["A"]]


async def test_the_worker_thread_leaves_the_loop_free_and_the_newest_snapshot_wins():
    loop = asyncio.get_running_loop()
    release = threading.Event()
    solving: list[str] = []

    def slow(inputs: PlannerInput, settings: PlannerSettings) -> Plan:
        solving.append(inputs.cars[0].name)
        release.wait()  # a long solve, as long as the test wants
        return make_plan(inputs, settings)

    solver = ThreadSolver(loop, slow)
    done: list[str] = []
    finished = asyncio.Event()

    def on_done(outcome: Outcome) -> None:
        assert threading.current_thread() is threading.main_thread()  # back on the loop
        done.append(next(iter(outcome.plan.cars)) if outcome.plan else "none")
        if len(done) == 2:
            finished.set()

    solver.submit(_inputs("first"), PlannerSettings(), on_done)
    solver.submit(_inputs("second"), PlannerSettings(), on_done)
    solver.submit(_inputs("third"), PlannerSettings(), on_done)  # replaces "second", which never runs
    turns = 0
    while turns < 100:  # the loop keeps turning while the worker is busy
        await asyncio.sleep(0)
        turns += 1
    assert solver.busy_s is not None and done == []
    release.set()
    await finished.wait()
    assert solving == ["first", "third"]
    assert done == ["first", "third"]
    assert (solver.solves, solver.superseded, solver.busy_s) == (2, 1, None)
    solver.close()


def test_a_failure_of_every_car_alone_still_plans_the_battery():
    outcome = contained(_no_bad, _inputs("bad"), PlannerSettings())
    assert outcome.plan is not None and dict(outcome.plan.cars) == {}
    assert outcome.dropped == (("bad", "OverflowError: date value out of range"),)


async def test_a_solve_that_ends_after_close_does_not_act():
    loop = asyncio.get_running_loop()
    release, ended = threading.Event(), threading.Event()

    def slow(inputs: PlannerInput, settings: PlannerSettings) -> Plan:
        release.wait()
        try:
            return make_plan(inputs, settings)
        finally:
            ended.set()

    solver = ThreadSolver(loop, slow)
    done: list[Outcome] = []
    solver.submit(_inputs("first"), PlannerSettings(), done.append)
    solver.submit(_inputs("second"), PlannerSettings(), done.append)
    solver.close()  # the service stops: it restores evcc's settings next
    release.set()
    await loop.run_in_executor(None, ended.wait)
    for _ in range(20):  # the worker's result reaches the loop, which must drop it
        await asyncio.sleep(0)
    assert done == [] and solver.solves == 0
