"""The Starlette app: the dashboard page, its static files and the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from smartload.settings.web import WebSettings
from smartload.system import System
from smartload.view_types import Error
from smartload.web.api import Api
from smartload.web.auth import bearer_ok
from smartload.web.endpoints import ENDPOINTS, endpoint_page, openapi
from smartload.web.guard import Guard, HostPolicy
from smartload.web.inputs import ApiError
from smartload.web.metrics import make_registry
from smartload.web.stream import Hub, stream_endpoint
from smartload.web.tally import Tally

STATIC = Path(__file__).parent / "static"
Handler = Callable[[Request], Awaitable[Response]]
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _printable(text: str, limit: int) -> str:
    # A field name can be a key the client sent: a lone surrogate in it would make the
    # answer unencodable (a 500), a long one would only echo the client's bulk.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + "..."


def error_response(error: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="smartload"'} if error.status == 401 else None
    answer: Error = {"error": _printable(str(error), 300), "field": _printable(error.field, 64)}
    return JSONResponse(answer, status_code=error.status, headers=headers)


def _authorized(handler: Handler, token: str, web: WebSettings) -> Handler:
    trusted = frozenset(web.trusted_proxies)

    def proxy_user(request: Request) -> bool:
        # Only the trusted proxy's own connection counts: a client elsewhere is refused
        # whatever headers it sends.
        client = request.client.host if request.client is not None else ""
        return web.proxy_user_header is not None and client in trusted \
            and bool(request.headers.get(web.proxy_user_header, "").strip())

    async def call(request: Request) -> Response:
        if not bearer_ok(request.headers.get("authorization"), token) and not proxy_user(request):
            return error_response(ApiError(401, "authorization", "a valid bearer token is required for writes"))
        return await handler(request)

    return call


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    field = "method" if exc.status_code == 405 else "path"
    answer: Error = {"error": f"{field}: {exc.detail}", "field": field}
    return JSONResponse(answer, status_code=exc.status_code, headers=exc.headers)


def create_app(system: System, token: str, web: WebSettings, hub: Hub, tally: Tally) -> Starlette:
    api = Api(system, make_registry(system, tally))
    stream = stream_endpoint(hub, web.sse_keepalive.total_seconds())

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    async def docs(request: Request) -> Response:
        return HTMLResponse(endpoint_page(), headers=_PAGE_HEADERS)

    document: list[bytes] = []  # built at the first request (~0.1 s of schema generation), then kept

    async def spec(request: Request) -> Response:
        if not document:
            document.append(bytes(JSONResponse(openapi()).body))
        return Response(document[0], media_type="application/json")

    routes: list[BaseRoute] = [
        Route("/", index), Route("/api", docs), Route("/api/openapi.json", spec),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    for e in ENDPOINTS:
        handler: Handler = stream if e.handler == "stream" else getattr(api, e.handler)
        routes.append(Route(e.path, _authorized(handler, token, web) if e.write else handler, methods=[e.method]))
    middleware = [Middleware(Guard, hosts=HostPolicy(web.host, web.allowed_hosts),
                             trusted=tuple(web.trusted_proxies))]
    if web.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=web.cors_origins,
                                     allow_methods=["GET", "POST", "DELETE"],
                                     allow_headers=["Authorization", "Content-Type"]))
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={ApiError: _api_error, HTTPException: _http_error})
