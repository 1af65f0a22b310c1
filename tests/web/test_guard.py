"""The server answers only to its own names: a DNS-rebinding page (Host: evil.example)
gets 421 for reads and writes alike, localhost, the loopback and bound addresses and the
names in web.allowed_hosts are served. Against the real server over loopback."""

from __future__ import annotations

import asyncio

import pytest

from smartload.settings import Settings, SettingsError, load_settings
from smartload.web.guard import HostPolicy
from tests.web.builders import TOKEN, make_parts, settings
from tests.web.conftest import serve

AUTH = {"Authorization": f"Bearer {TOKEN}"}
REFUSED = {"error": "host: this server does not answer to that name; add it to web.allowed_hosts", "field": "host"}


HOSTS = [
    ("evil.example", 421), ("evil.example:{port}", 421), ("127.0.0.1.evil.example", 421), ("10.0.0.1:{port}", 421),
    ("localhost.evil", 421), ("[::1", 421), ("", 421),
    ("127.0.0.1:{port}", 200), ("localhost:{port}", 200), ("LOCALHOST.", 200), ("[::1]:{port}", 200),
    ("127.0.0.2", 200),
]


async def test_reads_answer_only_to_the_servers_own_names(served):
    for host, status in HOSTS:
        answer = await served.client.get("/api/health", headers={"Host": host.format(port=served.server.port)})
        assert answer.status_code == status, host
        if status == 421:
            assert answer.json() == REFUSED


async def test_a_foreign_host_cannot_write_even_with_the_token_nor_open_the_event_stream(served):
    body = {"vehicle": "zoe", "target_soc_pct": 90, "departure": "06:30"}
    answer = await served.client.post("/api/requests", json=body, headers={**AUTH, "Host": "evil.example"})
    assert (answer.status_code, answer.json()) == (421, REFUSED)
    assert served.parts.store.open_requests() == {}
    stream = await served.client.get("/api/stream", headers={"Host": "evil.example"})
    assert stream.status_code == 421


async def test_a_request_without_a_host_header_is_refused(served):
    reader, writer = await asyncio.open_connection("127.0.0.1", served.server.port)
    writer.write(b"GET /api/health HTTP/1.0\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.endswith(b'{"error":"host: missing: send the Host header","field":"host"}')


async def test_names_in_allowed_hosts_are_served(tmp_path):
    parts = make_parts(settings(tmp_path, web={"token": TOKEN, "port": 0, "allowed_hosts": ["smartload.local",
                                                                                          "192.168.1.5"]}))
    stack, other = await serve(parts)
    async with stack:
        for host, status in (("smartload.local:8099", 200), ("Smartload.Local", 200), ("192.168.1.5", 200),
                             ("192.168.1.6", 421), ("evil.example", 421)):
            assert (await other.client.get("/api/health", headers={"Host": host})).status_code == status, host
    parts.close()


def test_bound_to_every_address_any_address_is_served_but_no_foreign_name():
    for bound in ("0.0.0.0", "::"):
        policy = HostPolicy(bound, [])
        assert policy.allows("192.168.1.5:8099") and policy.allows("[fe80::1]:8099") and policy.allows("localhost")
        assert not policy.allows("evil.example") and not policy.allows("nas.local:8099")
    named = HostPolicy("smartload.lan", [])  # bound by name: that name is its own
    assert named.allows("smartload.lan:8099") and not named.allows("other.lan")


@pytest.mark.parametrize(("text", "problem"), [
    ("web: {allowed_hosts: [nas.local, 'http://nas.local']}\n",
     "web.allowed_hosts: 'http://nas.local' is not a host name such as smartload.local (no scheme, no port)"),
    ("web: {trusted_proxies: [172.30.32.2, supervisor]}\n",
     "web.trusted_proxies: 'supervisor' is not an IP address such as 172.30.32.2"),
])
def test_allowed_hosts_must_be_bare_names_or_addresses_and_trusted_proxies_addresses(tmp_path, text, problem):
    assert Settings.model_validate({"web": {"allowed_hosts": ["nas.local", "[fd00::5]", "10.0.0.2"],
                                            "trusted_proxies": ["172.30.32.2", "::1"]}})
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    assert error.value.problems == [f"{path}: {problem}"]


async def test_a_trusted_proxy_passes_the_browsers_host_through(tmp_path):
    # Home Assistant's ingress proxy forwards the browser's Host (homeassistant.local:8123):
    # from its address that name is served, from any other address refused.
    for trusted, status in ((["127.0.0.1"], 200), (["172.30.32.2"], 421)):
        parts = make_parts(settings(tmp_path, web={"token": TOKEN, "port": 0, "trusted_proxies": trusted}))
        stack, other = await serve(parts)
        async with stack:
            answer = await other.client.get("/api/health", headers={"Host": "homeassistant.local:8123"})
            assert answer.status_code == status, trusted
        parts.close()


async def test_home_assistants_ingress_user_writes_without_the_token(tmp_path):
    # Through ingress, Home Assistant has logged the user in and names them in
    # X-Remote-User-Id: from the trusted proxy's address that is enough to write. The same
    # header from any other address, or the proxy without it, still needs the token.
    body = {"vehicle": "zoe", "target_soc_pct": 90, "departure": "06:30"}
    user = {"X-Remote-User-Id": "8a4e0f3c2b1d"}
    seen = {}
    for proxy in ("127.0.0.1", "172.30.32.2"):
        parts = make_parts(settings(tmp_path / proxy, web={"token": TOKEN, "port": 0, "trusted_proxies": [proxy],
                                                            "proxy_user_header": "X-Remote-User-Id"}))
        stack, other = await serve(parts)
        async with stack:
            with_user = await other.client.post("/api/requests", json=body, headers=user)
            without = await other.client.post("/api/requests", json=body, headers={"X-Remote-User-Id": ""})
            seen[proxy] = (with_user.status_code, without.status_code, sorted(parts.store.open_requests()))
        parts.close()
    assert seen == {"127.0.0.1": (201, 401, ["zoe"]), "172.30.32.2": (401, 401, [])}
