"""A scriptable provider with virtual latency and failures, for demos, replays and tests.

Latency is an Rx timer on the subscribe scheduler, so in a replay it costs virtual time
only. Each vehicle's script is consumed in order; when it runs out, `default` answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import reactivex as rx
from reactivex import Observable
from reactivex import operators as ops
from reactivex.abc import SchedulerBase
from reactivex.scheduler import TimeoutScheduler

from smartload.domain import SocReading
from smartload.vehicles.base import ProviderError


@dataclass(frozen=True, slots=True)
class FakeAnswer:
    """soc_pct None means the call fails with `error` (and an optional retry_after_s)."""

    soc_pct: float | None = 50.0
    age: timedelta = timedelta(0)
    latency: timedelta | None = None
    error: str = "fake cloud error"
    retry_after_s: float | None = None


@dataclass
class FakeProvider:
    script: Mapping[str, Sequence[FakeAnswer]] = field(default_factory=dict)
    default: FakeAnswer = FakeAnswer()
    latency: timedelta = timedelta(seconds=2)
    fail_every: int = 0
    name: str = "fake"
    calls: list[tuple[str, datetime]] = field(default_factory=list)

    def _next_answer(self, vehicle: str) -> FakeAnswer:
        n_for_vehicle = sum(1 for v, _ in self.calls if v == vehicle)
        script = self.script.get(vehicle, ())
        answer = script[n_for_vehicle - 1] if n_for_vehicle <= len(script) else self.default
        if self.fail_every and n_for_vehicle % self.fail_every == 0:
            return FakeAnswer(soc_pct=None, error=f"fake failure of call {n_for_vehicle}")
        return answer

    def fetch(self, vehicle: str) -> Observable[SocReading]:
        def call(scheduler: SchedulerBase | None) -> Observable[SocReading]:
            clock = scheduler or TimeoutScheduler.singleton()
            self.calls.append((vehicle, clock.now))
            answer = self._next_answer(vehicle)

            def respond(_: int) -> SocReading:
                now = clock.now
                if answer.soc_pct is None:
                    raise ProviderError(answer.error, retry_after_s=answer.retry_after_s)
                return SocReading(vehicle, answer.soc_pct, self.name, now - answer.age, now)

            return rx.timer(answer.latency if answer.latency is not None else self.latency).pipe(
                ops.map(respond)
            )

        return rx.defer(call)
