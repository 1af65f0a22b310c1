"""The address the dashboard's link names: one a browser can open."""

from __future__ import annotations

import pytest

from smartload.web.server import WebServer


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8099"),
    ("::1", "http://[::1]:8099"),
    ("0.0.0.0", "http://localhost:8099"),  # a container's bind address
    ("::", "http://localhost:8099"),
    ("", "http://localhost:8099"),
    ("192.168.1.20", "http://192.168.1.20:8099"),
])
def test_a_wildcard_bind_is_linked_as_localhost(host: str, url: str) -> None:
    server = WebServer(app=None, hub=None, host=host, port=8099)  # type: ignore[arg-type]
    assert server.url == url
