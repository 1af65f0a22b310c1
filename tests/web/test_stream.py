"""Server-sent events over the real uvicorn server (ASGITransport would buffer the endless
body): the dashboard first, then events, plans and coalesced live updates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx

from smartload.events import Event
from tests.web.builders import NOW, TOKEN, plan, site_state

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def sse_messages(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    name, data = None, []
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name is not None:
            yield name, json.loads("\n".join(data))
            name, data = None, []


async def next_message(messages: AsyncIterator[tuple[str, Any]], wanted: Callable[[str, Any], bool],
                       timeout_s: float = 5.0) -> tuple[str, Any]:
    async def find() -> tuple[str, Any]:
        async for name, data in messages:
            if wanted(name, data):
                return name, data
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(find(), timeout_s)


async def test_the_stream_sends_the_dashboard_then_events_plans_and_live_updates(served):
    parts = served.parts
    async with served.client.stream("GET", "/api/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "access-control-allow-origin" not in response.headers
        messages = sse_messages(response)
        name, dashboard = await next_message(messages, lambda n, d: True)
        assert name == "dashboard"
        assert [v["id"] for v in dashboard["vehicles"]] == ["zoe", "ioniq"]
        assert (dashboard["plan"]["cost_eur"], dashboard["timezone"]) == (1.9625, "Europe/Berlin")

        # A boost through the API is an event on every open stream.
        await served.client.post("/api/vehicles/zoe/boost", json={"minutes": 30}, headers=AUTH)
        _, event = await next_message(messages, lambda n, d: n == "event")
        assert event == {"at": "2026-03-02T19:00:00Z", "kind": "boost", "vehicle": "zoe",
                         "text": "zoe: full power for 30 min", "data": {}}

        parts.system.bus.publish(Event(NOW, "handoff", "handoff: plug in ioniq at wallbox 1 by 22:00", "ioniq",
                                        {"wallbox": 1}))
        _, event = await next_message(messages, lambda n, d: n == "event")
        assert (event["kind"], event["vehicle"], event["data"]) == ("handoff", "ioniq", {"wallbox": 1})

        later = parts.advance(minutes=15)
        parts.push_plan(plan(later))
        _, new_plan = await next_message(messages, lambda n, d: n == "plan")
        assert (new_plan["created_at"], new_plan["slots"][0]["start"]) == ("2026-03-02T19:15:00Z",
                                                                          "2026-03-02T19:15:00Z")

        # Polls arrive far faster than a browser needs them: they coalesce into one update.
        for seconds in (10, 20, 30):
            parts.push_state(site_state(later + timedelta(seconds=seconds), zoe_power_w=7000.0))
        _, live = await next_message(messages, lambda n, d: n == "live" and d["site"]["at"].endswith("19:15:30Z"))
        assert live["vehicles"][0]["loadpoint"]["charge_power_w"] == 7000.0
        assert live["vehicles"][0]["boost_until"] == "2026-03-02T19:30:00Z"


async def test_shutting_down_ends_open_streams(served, tmp_path):
    from tests.web.builders import make_parts, settings
    from tests.web.conftest import serve

    parts = make_parts(settings(tmp_path / "other"))
    stack, other = await serve(parts)
    response = await other.client.send(other.client.build_request("GET", "/api/stream"), stream=True)
    first = await anext(sse_messages(response))
    assert first[0] == "dashboard"
    # uvicorn would wait its 2 s grace for the open stream; the hub ends it at once instead.
    await asyncio.wait_for(stack.aclose(), 1.5)
    await response.aclose()
    parts.close()
