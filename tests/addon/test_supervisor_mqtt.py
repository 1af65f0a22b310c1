"""Home Assistant's MQTT broker found through the Supervisor (GET /services/mqtt with the
add-on's token), against a real HTTP server on loopback standing in for the Supervisor,
and the bridge connecting with what it answered to a real mosquitto."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import AsyncExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from loguru import logger

from smartload.__main__ import _with_supervisor_mqtt
from smartload.addon.supervisor import SUPERVISOR_URL_ENV, with_supervisor_mqtt
from smartload.homeassistant import start_mqtt
from tests.homeassistant.conftest import Watcher, broker_port, free_port, watcher  # noqa: F401 (fixtures)
from tests.web.builders import make_parts, settings

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "supervisor-token-123"
SLUG = "a0d7b954_smartload"
BROKER = {"addon": "core_mosquitto", "host": "127.0.0.1", "port": 1883, "ssl": False, "protocol": "3.1.1",
          "username": "addons", "password": "mqtt-s3cret"}


class Supervisor:
    """Answers GET /services/mqtt with `status` and `body`; keeps each request's path and
    Authorization header."""

    def __init__(self) -> None:
        self.status, self.body = 200, {"result": "ok", "data": BROKER}
        self.info: object = {"result": "ok", "data": {"slug": SLUG, "name": "smartload"}}
        self.requests: list[tuple[str, str | None]] = []
        supervisor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                supervisor.requests.append((self.path, self.headers.get("Authorization")))
                info = self.path == "/addons/self/info"
                payload = json.dumps(supervisor.info if info else supervisor.body).encode()
                self.send_response(200 if info else supervisor.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    running = Supervisor()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="DEBUG")
    yield lines
    logger.remove(sink)


def environ(supervisor: Supervisor) -> dict[str, str]:
    return {"SUPERVISOR_TOKEN": TOKEN, SUPERVISOR_URL_ENV: supervisor.url}


def test_the_supervisors_broker_becomes_the_mqtt_settings(tmp_path, supervisor, log_lines):
    before = settings(tmp_path)
    after = with_supervisor_mqtt(before, environ(supervisor))
    assert supervisor.requests == [("/services/mqtt", f"Bearer {TOKEN}"), ("/addons/self/info", f"Bearer {TOKEN}")]
    mqtt = after.mqtt
    assert (mqtt.host, mqtt.port, mqtt.username, mqtt.password.get_secret_value(), mqtt.tls) == (
        "127.0.0.1", 1883, "addons", "mqtt-s3cret", False)
    # The rest of the MQTT settings and every other section stay as they were.
    assert (mqtt.client_id, mqtt.topic_prefix, mqtt.discovery) == ("smartload", "smartload", True)
    assert after.model_copy(update={"mqtt": before.mqtt}) == before
    assert log_lines == ["MQTT: Home Assistant's broker 127.0.0.1:1883 (from the Supervisor)"]
    assert "mqtt-s3cret" not in repr(after.mqtt)
    # Home Assistant's device page links to the dashboard through ingress.
    assert mqtt.configuration_url == f"homeassistant://hassio/ingress/{SLUG}"


@pytest.mark.parametrize("info", [{"result": "error", "message": "no"}, {"result": "ok", "data": {"slug": "../x"}},
                                  [1, 2]])
def test_without_a_usable_slug_the_device_has_no_link_and_a_configured_one_is_kept(tmp_path, supervisor, info):
    supervisor.info = info
    assert with_supervisor_mqtt(settings(tmp_path), environ(supervisor)).mqtt.configuration_url is None
    supervisor.info = {"result": "ok", "data": {"slug": SLUG}}
    mine = settings(tmp_path, mqtt={"configuration_url": "http://nas.local:8099"})
    assert with_supervisor_mqtt(mine, environ(supervisor)).mqtt.configuration_url == "http://nas.local:8099"


def test_tls_from_the_supervisor(tmp_path, supervisor):
    supervisor.body = {"result": "ok", "data": {**BROKER, "ssl": True, "port": 8883}}
    mqtt = with_supervisor_mqtt(settings(tmp_path), environ(supervisor)).mqtt
    assert (mqtt.port, mqtt.tls) == (8883, True)


@pytest.mark.parametrize(("status", "body", "line"), [
    (400, {"result": "error", "message": "Service not enabled"},
     "MQTT off: the Supervisor offers no MQTT broker (HTTP 400: Service not enabled); Home Assistant's MQTT "
     "entities need its Mosquitto broker add-on"),
    (200, {"result": "ok", "data": {}},
     "MQTT off: the Supervisor's answer names no broker; Home Assistant's MQTT entities need its Mosquitto broker "
     "add-on"),
    (502, "Bad Gateway",
     "MQTT off: the Supervisor offers no MQTT broker (HTTP 502); Home Assistant's MQTT entities need its Mosquitto "
     "broker add-on"),
    (200, {"result": "ok", "data": {**BROKER, "port": 0}},
     "MQTT off: the Supervisor's broker is not usable (port: Input should be greater than or equal to 1)"),
])
def test_without_a_broker_mqtt_stays_off_with_one_info_line(tmp_path, supervisor, log_lines, status, body, line):
    supervisor.status, supervisor.body = status, body
    before = settings(tmp_path)
    assert with_supervisor_mqtt(before, environ(supervisor)) is before
    assert not before.mqtt.enabled
    assert log_lines == [line]


def test_an_unreachable_supervisor_leaves_mqtt_off(tmp_path, log_lines):
    before = settings(tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    assert with_supervisor_mqtt(before, {"SUPERVISOR_TOKEN": TOKEN, SUPERVISOR_URL_ENV: url}) is before
    assert log_lines == ["MQTT off: the Supervisor did not answer (ConnectError); Home Assistant's MQTT entities "
                         "need its Mosquitto broker add-on"]


def test_a_configured_broker_or_no_token_asks_no_supervisor(tmp_path, supervisor, monkeypatch, log_lines):
    configured = settings(tmp_path, mqtt={"host": "broker.lan"})
    monkeypatch.setenv("SUPERVISOR_TOKEN", TOKEN)
    monkeypatch.setenv(SUPERVISOR_URL_ENV, supervisor.url)
    assert _with_supervisor_mqtt(configured) is configured
    monkeypatch.delenv("SUPERVISOR_TOKEN")
    plain = settings(tmp_path)
    assert _with_supervisor_mqtt(plain) is plain
    assert (supervisor.requests, log_lines) == ([], [])
    monkeypatch.setenv("SUPERVISOR_TOKEN", TOKEN)  # the run command's path asks once it may
    assert _with_supervisor_mqtt(plain).mqtt.host == "127.0.0.1"
    assert [path for path, _ in supervisor.requests] == ["/services/mqtt", "/addons/self/info"]


async def test_the_bridge_connects_to_the_broker_the_supervisor_named(tmp_path, supervisor, broker_port,  # noqa: F811
                                                                      watcher: Watcher):  # noqa: F811
    supervisor.body = {"result": "ok", "data": {**BROKER, "port": broker_port}}
    found = with_supervisor_mqtt(settings(tmp_path), environ(supervisor))
    async with AsyncExitStack() as stack:
        parts = make_parts(found)
        stack.callback(parts.close)
        bridge = await start_mqtt(parts.system, stack)
        await asyncio.wait_for(bridge.connected.wait(), 10)
        await watcher.until(lambda: watcher.last("smartload/status") == "online", "online on the found broker")


async def test_the_add_on_starts_from_its_options_and_reaches_the_supervisors_broker(tmp_path, supervisor,
                                                                                    broker_port,  # noqa: F811
                                                                                    watcher: Watcher):  # noqa: F811
    # What the run script starts: `smartload run` with no settings file, the options in
    # SMARTLOAD_ADDON_OPTIONS and the Supervisor's token; here against the embedded
    # simulator, with the web server on a free port and the data in tmp_path.
    supervisor.body = {"result": "ok", "data": {**BROKER, "port": broker_port}}
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"evcc_url": "embedded", "log_level": "info",
                                   "cars": [{"name": "zoe", "title": "Renault Zoe", "capacity_kwh": 52.0}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTLOAD_")} | {
        "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "SMARTLOAD_ADDON_OPTIONS": str(options),
        "SUPERVISOR_TOKEN": TOKEN, SUPERVISOR_URL_ENV: supervisor.url,
        "SMARTLOAD_WEB__PORT": "0", "SMARTLOAD_DATA_DIR": str(tmp_path / "data"),
    }
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:  # a file, not a pipe: a full pipe would stall the child's log
        child = await asyncio.create_subprocess_exec(sys.executable, "-m", "smartload", "run", "--duration", "120s",
                                                     cwd=tmp_path, env=env, stderr=stderr)
        try:
            await watcher.until(lambda: watcher.last("smartload/status") == "online", "the add-on online", 90)
            await watcher.until(lambda: any(t.startswith("homeassistant/sensor/") and t.endswith("zoe_soc/config")
                                            for t in watcher.seen), "zoe's discovery", 30)
        finally:
            child.terminate()
            try:
                await asyncio.wait_for(child.wait(), 60)
            except TimeoutError:
                child.kill()
                await child.wait()
    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].split(" INFO ", 1)[1].strip() == (
        f"settings: {options} (the Home Assistant add-on's options); data directory: {tmp_path / 'data'}")
    assert any(line.endswith(f"MQTT: Home Assistant's broker 127.0.0.1:{broker_port} (from the Supervisor)")
               for line in lines)
    assert supervisor.requests == [("/services/mqtt", f"Bearer {TOKEN}"), ("/addons/self/info", f"Bearer {TOKEN}")]
    assert "mqtt-s3cret" not in text
