"""The three refresh lanes of one vehicle: the rules refresh.py applies per request.

The lanes share the vehicle's daily budget and the cloud's backoff (refresh_gate.py), and
nothing else, so no lane can take another's turn:

- plug-in (edges plugged, moved, startup): the reading the plan starts from, so the one
  that matters most. It is asked at once, unless the car already has a reading
  *measured* since it arrived: then the request is skipped as "fresh". A car back at a
  wallbox within the throttle window of leaving, or moved to another wallbox without a
  poll showing it away, has not been anywhere: its stay goes on, and a stay whose
  plug-in call was answered is not asked again ("throttled"), so a flapping cable costs
  one call. A plug-in call refused for backoff, or failed, is tried again when the
  backoff ends while the car stays plugged in without a newer reading (up to
  `RefreshPolicy.retries` times per stay); a retry overtaken by events is "cancelled".
- routine (unplugged) and manual: each at most one call per throttle window, else
  "throttled". Routine calls may use only the first half of the daily budget.

Calls for one vehicle go out one at a time: a request that comes while one is under way
is decided when it ends, with what it brought.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Literal

from reactivex import operators as ops
from reactivex.abc import SchedulerBase
from reactivex.disposable import CompositeDisposable, Disposable, SerialDisposable

from smartload.domain import ConnectionEdge, EdgeReason, RefreshOutcome, RefreshStatus, SocReading
from smartload.streams.refresh_gate import RefreshGate, RefreshPolicy, clock_time
from smartload.vehicles.base import ProviderError, ProviderUnsupported, VehicleProvider

__all__ = ["LANES", "Lane", "VehicleLanes"]

Lane = Literal["plug-in", "routine", "manual"]
LANES: Mapping[EdgeReason, Lane] = {
    "plugged": "plug-in", "moved": "plug-in", "startup": "plug-in", "unplugged": "routine", "manual": "manual",
}


@dataclass(eq=False)
class _Stay:
    """One car's time at the wallboxes, from the plug-in that began it."""

    since: datetime
    left_at: datetime | None = None
    asked_at: datetime | None = None  # this stay's plug-in call was answered (ok or unsupported)
    retries: int = 0
    retry_at: datetime | None = None
    retry_of: _Request | None = None


@dataclass(frozen=True, slots=True)
class _Request:
    edge: ConnectionEdge
    lane: Lane
    arrived_at: datetime
    retry: int = 0
    stay: _Stay | None = None
    note: str = ""  # how a plug-in's stay goes on, for the reason of a skip


class VehicleLanes:
    """The three lanes of one vehicle. Runs on the subscribe scheduler's thread."""

    def __init__(self, provider: VehicleProvider, policy: RefreshPolicy, tz: tzinfo,
                 scheduler: SchedulerBase, emit: Callable[[RefreshOutcome], None],
                 on_idle: Callable[[], None]) -> None:
        self._provider, self._policy, self._tz = provider, policy, tz
        self._scheduler, self._emit, self._on_idle = scheduler, emit, on_idle
        self._gate = RefreshGate(policy, tz)
        self._measured: SocReading | None = None  # newest reading with a known measurement time
        self._lane_called: dict[Lane, datetime] = {}
        self._stay: _Stay | None = None
        self._queue: deque[_Request] = deque()
        self._busy = self._draining = self._drain_due = False
        self._free_since: datetime | None = None  # when the last call ended
        self._call, self._timer, self._soon = SerialDisposable(), SerialDisposable(), SerialDisposable()
        self.disposable = CompositeDisposable(self._call, self._timer, self._soon)

    @property
    def idle(self) -> bool:
        return not self._busy and not self._queue and not self._drain_due

    def _t(self, at: datetime) -> str:
        return clock_time(at, self._tz)

    # -- inputs

    def reading(self, reading: SocReading) -> None:
        if reading.measured_at_known and (self._measured is None or reading.measured_at >= self._measured.measured_at):
            self._measured = reading

    def departed(self, at: datetime) -> None:
        stay = self._stay
        if stay is not None and stay.left_at is None:
            stay.left_at = at
            self._cancel_retry(stay, f"the car left at {self._t(at)}")

    def request(self, edge: ConnectionEdge, retry: int = 0, stay: _Stay | None = None) -> None:
        """Decided once the poll that brought it has been heard whole: a reading evcc shows
        in the same poll must count whichever branch of the graph hears the poll first.
        Where the car is counts at once, though: a departure may come before the decision."""
        lane, note = LANES[edge.reason], ""
        if lane == "plug-in" and retry == 0:
            note = self._arrive(edge)
            stay = self._stay
        self._queue.append(_Request(edge, lane, self._scheduler.now, retry, stay, note))
        if not self._drain_due:
            self._drain_due = True
            self._soon.disposable = self._scheduler.schedule(lambda *_: self._drain_soon())

    def _drain_soon(self) -> None:
        self._drain_due = False
        self._drain()

    def close(self) -> None:
        if self._stay is not None:
            self._cancel_retry(self._stay, "the requests ended")

    # -- deciding

    def _drain(self) -> None:
        if self._draining:  # a call answered synchronously: the loop below goes on
            return
        self._draining = True
        try:
            while not self._busy and self._queue:
                self._decide(self._queue.popleft())
        finally:
            self._draining = False
        if self.idle:
            self._on_idle()

    def _decide(self, request: _Request) -> None:
        # When it could go out: as it came (at its poll), or when the call before it ended.
        now = request.arrived_at if self._free_since is None else max(request.arrived_at, self._free_since)
        if request.lane == "plug-in" and request.retry == 0:
            skipped = self._plug_in_skip(request)
        elif request.lane == "plug-in":
            skipped = self._retry_skip(request)
        else:
            skipped = self._lane_throttled(request.lane, now)
        if skipped is not None:
            self._out(request, now, *skipped)
            return
        refused = self._gate.check(now, spare=request.lane == "routine")
        if refused is not None:
            why = self._gate.why(refused)
            self._out(request, now, refused, why + (self._plan_retry(request) if refused == "backoff" else ""))
            return
        self._ask(request, now)

    def _arrive(self, edge: ConnectionEdge) -> str:
        """Start a stay, or go on with the current one; say which if it goes on."""
        stay = self._stay
        if stay is not None and edge.reason != "startup":
            if stay.left_at is None and edge.reason == "moved":
                return f" (moved without leaving; at the wallboxes since {self._t(stay.since)})"
            if stay.left_at is not None and edge.plugged_at - stay.left_at <= self._policy.throttle:
                away_s = max(0.0, (edge.plugged_at - stay.left_at).total_seconds())
                stay.left_at = None
                return f" (back after {away_s:.0f} s away; at the wallboxes since {self._t(stay.since)})"
        if stay is not None:
            self._cancel_retry(stay, f"a new plug-in at {self._t(edge.plugged_at)}")
        self._stay = _Stay(edge.plugged_at)
        return ""

    def _fresh(self, stay: _Stay) -> tuple[RefreshStatus, str] | None:
        measured = self._measured
        if measured is not None and measured.measured_at >= stay.since:
            return "fresh", (f"measured at {self._t(measured.measured_at)} by {measured.source}, "
                             f"after the plug-in at {self._t(stay.since)}")
        return None

    def _plug_in_skip(self, request: _Request) -> tuple[RefreshStatus, str] | None:
        stay = request.stay
        assert stay is not None
        if stay is not self._stay and self._stay is not None:  # it left and came back while this waited
            return "cancelled", f"a new plug-in at {self._t(self._stay.since)} took its place"
        if (fresh := self._fresh(stay)) is not None:
            return fresh
        if stay.retry_at is not None:
            return "throttled", f"a retry for the plug-in at {self._t(stay.since)} is due at {self._t(stay.retry_at)}"
        if stay.asked_at is not None:
            since = self._t(stay.since)
            return "throttled", f"asked at {self._t(stay.asked_at)} for the plug-in at {since}{request.note}"
        return None

    def _retry_skip(self, request: _Request) -> tuple[RefreshStatus, str] | None:
        stay = request.stay
        assert stay is not None
        if stay is not self._stay or stay.left_at is not None:
            why = f"the car left at {self._t(stay.left_at)}" if stay.left_at else "a new plug-in took its place"
            return "cancelled", f"retry not needed: {why}"
        return self._fresh(stay)

    def _lane_throttled(self, lane: Lane, now: datetime) -> tuple[RefreshStatus, str] | None:
        last = self._lane_called.get(lane)
        if last is None or now - last >= self._policy.throttle:
            return None
        after = self._t(last + self._policy.throttle)
        return "throttled", f"{lane} refresh asked at {self._t(last)}; the next from {after}"

    # -- retries of plug-in refreshes

    def _plan_retry(self, request: _Request) -> str:
        stay, until = request.stay, self._gate.blocked_until
        if request.lane != "plug-in" or stay is None or stay is not self._stay or stay.left_at is not None:
            return ""
        if until is None:
            return ""
        if stay.retries >= self._policy.retries:
            return f"; no retry left ({stay.retries} used)"
        stay.retries += 1
        stay.retry_at, stay.retry_of = until, replace(request, retry=stay.retries)
        self._timer.disposable = self._scheduler.schedule_absolute(until, lambda *_: self._fire_retry(stay))
        return f"; retry at {self._t(until)} while plugged in without a newer reading"

    def _fire_retry(self, stay: _Stay) -> None:
        request = stay.retry_of
        stay.retry_at = stay.retry_of = None
        if request is not None:
            self.request(request.edge, request.retry, stay)

    def _cancel_retry(self, stay: _Stay, why: str) -> None:
        request, due = stay.retry_of, stay.retry_at
        if request is None or due is None:
            return
        stay.retry_at = stay.retry_of = None
        self._timer.disposable = Disposable()  # replacing the timer disposes it
        self._out(request, self._scheduler.now, "cancelled", f"retry due at {self._t(due)} not needed: {why}")

    # -- calling the cloud

    def _ask(self, request: _Request, requested_at: datetime) -> None:
        self._busy = True
        if request.lane != "plug-in":
            self._lane_called[request.lane] = requested_at
        answered = [False]

        def done(status: RefreshStatus, reason: str, reading: SocReading | None = None,
                 error: str | None = None) -> None:
            if answered[0]:
                return
            answered[0] = True
            self._busy, self._free_since = False, self._scheduler.now
            self._out(request, requested_at, status, reason, self._free_since, reading, error)
            self._drain()

        def on_next(reading: SocReading) -> None:
            self._gate.succeeded()
            self.reading(reading)
            if request.stay is not None:
                request.stay.asked_at = requested_at
            done("ok", self._why_asked(request), reading)

        def on_error(error: Exception) -> None:
            if answered[0]:
                return
            if isinstance(error, ProviderUnsupported):
                if request.stay is not None:
                    request.stay.asked_at = requested_at
                done("unsupported", "the provider cannot answer for this car now", error=str(error))
                return
            retry_after = error.retry_after_s if isinstance(error, ProviderError) else None
            self._gate.failed(self._scheduler.now, retry_after)
            message = str(error) or type(error).__name__
            done("failed", self._gate.why("backoff") + self._plan_retry(request), error=message)

        try:
            answer = self._provider.fetch(request.edge.vehicle).pipe(ops.take(1))
        except Exception as error:  # a provider that raises instead of erroring its stream
            on_error(error)
            return
        self._call.disposable = answer.subscribe(
            on_next, on_error, lambda: on_error(ProviderError("the provider answered nothing")),
            scheduler=self._scheduler,
        )  # after an answer, on_error returns at once: take(1) completes right behind it

    def _why_asked(self, request: _Request) -> str:
        if request.lane == "plug-in" and request.stay is not None:
            again = f" (retry {request.retry})" if request.retry else ""
            return f"plug-in at {self._t(request.stay.since)}{again}"
        return {"routine": "routine refresh while unplugged", "manual": "asked for by hand"}.get(request.lane, "")

    def _out(self, request: _Request, requested_at: datetime, status: RefreshStatus, reason: str,
             finished_at: datetime | None = None, reading: SocReading | None = None, error: str | None = None) -> None:
        edge = request.edge
        self._emit(RefreshOutcome(edge.vehicle, edge.at, requested_at, status, finished_at, reading, error,
                                  reason, edge.reason, request.retry))
