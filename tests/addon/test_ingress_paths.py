"""Home Assistant's ingress serves the dashboard under a path prefix
(/api/hassio_ingress/<token>/): every URL the page asks for must be relative to the page,
or the browser would ask Home Assistant itself."""

from __future__ import annotations

import re
from pathlib import Path

import smartload.web

STATIC = Path(smartload.web.__file__).with_name("static")
# A URL from the server's root in a fetch, an EventSource, a link or a script: "/api/...".
ROOTED = re.compile(r"""(?:["'`(]|href=|src=)\s*["'`]?/(?:api|static|metrics)\b""")


def test_the_dashboard_names_no_url_from_the_servers_root():
    files = sorted(p for p in STATIC.iterdir() if p.suffix in (".html", ".js", ".css"))
    assert [p.name for p in files] == ["app.js", "cars.js", "chart.js", "index.html", "style.css"]
    rooted = [f"{p.name}: {m.group(0)}" for p in files for m in ROOTED.finditer(p.read_text(encoding="utf-8"))]
    assert rooted == []


def test_the_pattern_finds_rooted_urls():
    found = [bool(ROOTED.search(text)) for text in ('fetch("/api/history")', "new EventSource('/api/stream')",
                                                    'href="/static/style.css"', "`/api/vehicles/${id}`",
                                                    'fetch("api/history")', 'href="static/style.css"')]
    assert found == [True, True, True, True, False, False]


def test_the_api_page_names_no_url_from_the_servers_root():
    from smartload.web.endpoints import endpoint_page

    page = endpoint_page()
    assert "href='static/style.css'" in page and "href='api/openapi.json'" in page
    assert ROOTED.findall(page) == []
