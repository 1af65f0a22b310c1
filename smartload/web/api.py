"""The JSON API's handlers. Reads are open; every write needs the bearer token (checked
by the app before a write handler runs). Errors name the field: see inputs.ApiError."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from smartload.domain import Rate
from smartload.requests import ChargeRequest
from smartload.store.energy import __doc__ as ENERGY_METHOD
from smartload.store.history import Figures
from smartload.system import System
from smartload.timefmt import iso
from smartload.view_types import (
    BoostedView,
    CancelledView,
    EvccSettingsView,
    FiguresView,
    HistoryView,
    RateView,
    RefreshAskedView,
    SocEnteredView,
    TariffsView,
)
from smartload.views import (
    control_view,
    dashboard_view,
    event_view,
    health_view,
    request_view,
    site_view,
    solar_scale_view,
    system_plan_view,
    vehicle_views,
)
from smartload.web.inputs import ApiError, BoostBody, EmptyBody, RequestBody, SocBody, parse_body, parse_departure
from smartload.web.metrics import render

HISTORY_METHOD = " ".join((ENERGY_METHOD or "").split("\n\n", 1)[-1].split())


@dataclass
class Api:
    system: System
    registry: Any

    # -- helpers ------------------------------------------------------------------------

    def _vehicle(self, request: Request) -> str:
        vehicle = request.path_params["vehicle"]
        if vehicle not in self.system.settings.vehicles:
            raise ApiError(404, "vehicle", f"unknown vehicle {vehicle[:64]!r}")
        return str(vehicle)

    @staticmethod
    def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
        text = request.query_params.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError as exc:
            raise ApiError(422, name, "must be an integer") from exc
        if not low <= value <= high:
            raise ApiError(422, name, f"must be between {low} and {high}")
        return value

    def _history(self) -> Any:
        if self.system.history is None:
            raise ApiError(404, "history", "the history store is not running")
        return self.system.history

    # -- reads --------------------------------------------------------------------------

    async def dashboard(self, request: Request) -> JSONResponse:
        return JSONResponse(dashboard_view(self.system, self._int(request, "events", 50, 0, 200)))

    async def state(self, request: Request) -> JSONResponse:
        return JSONResponse(site_view(self.system.live.state))

    async def vehicles(self, request: Request) -> JSONResponse:
        return JSONResponse(vehicle_views(self.system))

    async def vehicle(self, request: Request) -> JSONResponse:
        vehicle = self._vehicle(request)
        return JSONResponse(next(v for v in vehicle_views(self.system) if v["id"] == vehicle))

    async def plan(self, request: Request) -> JSONResponse:
        return JSONResponse(system_plan_view(self.system))

    async def tariffs(self, request: Request) -> JSONResponse:
        tariffs = self.system.live.tariffs

        def rates(values: tuple[Rate, ...]) -> list[RateView]:
            return [{"start": iso(r.start), "end": iso(r.end), "value": r.value} for r in values]

        answer: TariffsView = {"grid": rates(tariffs.grid), "feedin": rates(tariffs.feedin),
                               "solar": rates(tariffs.solar), "solar_scale": solar_scale_view(self.system)}
        return JSONResponse(answer)

    async def requests(self, request: Request) -> JSONResponse:
        current = self.system.planning.sequencer.requests(self.system.now)
        return JSONResponse({v: request_view(r) for v, r in current.items()})

    async def evcc_settings(self, request: Request) -> JSONResponse:
        answer: EvccSettingsView = {"settings": control_view(self.system),
                                    "paused_loadpoints": sorted(self.system.planning.actuator.paused)}
        return JSONResponse(answer)

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse(health_view(self.system))

    async def events(self, request: Request) -> JSONResponse:
        limit = self._int(request, "limit", 100, 1, 1000)
        kind = request.query_params.get("kind")
        if self.system.history is not None:
            return JSONResponse(self.system.history.events(limit, kind))
        events = [e for e in reversed(self.system.live.events) if kind is None or e.kind == kind]
        return JSONResponse([event_view(e) for e in events[:limit]])

    async def history(self, request: Request) -> JSONResponse:
        store = self._history()
        days = self._int(request, "days", 7, 1, self.system.settings.store.retention_days)
        tz = self.system.settings.site.tz
        today = self.system.now.astimezone(tz).date()
        history = store.days(today - timedelta(days=days - 1), today, tz)

        def figures(f: Figures) -> FiguresView:
            return {"cost_eur": round(f.cost_eur, 4), "import_kwh": round(f.import_kwh, 3),
                    "import_eur": round(f.import_eur, 4), "export_kwh": round(f.export_kwh, 3),
                    "export_eur": round(f.export_eur, 4),
                    "cars": {v: {"kwh": round(c["kwh"], 3), "eur": round(c["eur"], 4)} for v, c in f.cars.items()}}

        answer: HistoryView = {"method": HISTORY_METHOD, "days": [
            {"date": d.day.isoformat(), "actual": figures(d.actual), "planned": figures(d.planned)}
            for d in reversed(history)]}
        return JSONResponse(answer)

    async def soc_history(self, request: Request) -> JSONResponse:
        vehicle = self._vehicle(request)
        hours = self._int(request, "hours", 24, 1, 24 * self.system.settings.store.retention_days)
        return JSONResponse(self._history().readings(vehicle, self.system.now - timedelta(hours=hours)))

    async def plans(self, request: Request) -> JSONResponse:
        return JSONResponse(self._history().plans(self._int(request, "limit", 50, 1, 1000)))

    async def writes(self, request: Request) -> JSONResponse:
        return JSONResponse(self._history().writes(self._int(request, "limit", 100, 1, 1000)))

    async def metrics(self, request: Request) -> Response:
        return Response(render(self.registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    # -- writes -------------------------------------------------------------------------

    async def add_request(self, request: Request) -> JSONResponse:
        body = await parse_body(request, RequestBody)
        system = self.system
        if body.vehicle not in system.settings.vehicles:
            raise ApiError(404, "vehicle", f"unknown vehicle {body.vehicle[:64]!r}")
        departure = parse_departure(body.departure, system.now, system.settings.site.tz)
        wanted = ChargeRequest(body.vehicle, departure, body.target_soc_pct, body.energy_kwh, body.priority, "api")
        try:
            stored = system.controls.add_request(wanted)
        except (KeyError, ValueError) as exc:
            raise ApiError.from_control(exc) from exc
        return JSONResponse(request_view(stored), status_code=201)

    async def cancel_request(self, request: Request) -> JSONResponse:
        vehicle = self._vehicle(request)
        answer: CancelledView = {"vehicle": vehicle, "cancelled": self.system.controls.cancel_request(vehicle)}
        return JSONResponse(answer)

    async def boost(self, request: Request) -> JSONResponse:
        vehicle = self._vehicle(request)
        body = await parse_body(request, BoostBody)
        try:
            until = self.system.controls.boost(vehicle, body.minutes)
        except (KeyError, ValueError) as exc:
            raise ApiError.from_control(exc) from exc
        answer: BoostedView = {"vehicle": vehicle, "until": iso(until)}
        return JSONResponse(answer)

    async def set_soc(self, request: Request) -> JSONResponse:
        vehicle = self._vehicle(request)
        body = await parse_body(request, SocBody)
        measured_at = body.measured_at
        if measured_at is not None and measured_at.tzinfo is None:
            measured_at = measured_at.replace(tzinfo=self.system.settings.site.tz)
        try:
            reading = self.system.controls.set_soc(vehicle, body.soc_pct, measured_at)
        except (KeyError, ValueError) as exc:
            raise ApiError.from_control(exc) from exc
        answer: SocEnteredView = {"vehicle": vehicle, "soc_pct": reading.soc_pct, "source": reading.source,
                                  "measured_at": iso(reading.measured_at)}
        return JSONResponse(answer)

    async def refresh(self, request: Request) -> JSONResponse:
        vehicle = self._vehicle(request)
        await parse_body(request, EmptyBody)
        self.system.controls.refresh(vehicle)
        answer: RefreshAskedView = {"vehicle": vehicle, "requested_at": iso(self.system.now)}
        return JSONResponse(answer, status_code=202)
