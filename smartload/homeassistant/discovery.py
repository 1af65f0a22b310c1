"""Home Assistant MQTT discovery: one retained config message per entity.

Topics (prefix from settings, "smartload" by default): <prefix>/status (online/offline,
the last will), <prefix>/state (site), <prefix>/plan (plan summary),
<prefix>/vehicle/<id>/state (each car), commands on <prefix>/vehicle/<id>/<command>/set.
Config messages go to <discovery prefix>/<component>/<node id>/<object id>/config; the node
id starts every unique id (settings mqtt.unique_id_prefix, else the client id).
"""

from __future__ import annotations

from typing import Any

from smartload import __version__
from smartload.homeassistant.device import car_device, origin, site_device
from smartload.settings import Settings
from smartload.settings.mqtt import MqttBridgeSettings

COMMANDS = ("boost", "refresh", "cancel", "soc", "target_soc", "departure")
DIAGNOSTIC = {"entity_category": "diagnostic"}
MEASUREMENT = {"state_class": "measurement"}


class Topics:
    def __init__(self, mqtt: MqttBridgeSettings) -> None:
        self.prefix = mqtt.topic_prefix
        self.status = f"{self.prefix}/status"
        self.state = f"{self.prefix}/state"
        self.plan = f"{self.prefix}/plan"
        self.error = f"{self.prefix}/error"
        self.commands = f"{self.prefix}/vehicle/+/+/set"
        self.ha_status = f"{mqtt.discovery_prefix}/status"
        # Every config message this node may have left retained, whichever entity it was.
        self.configs = f"{mqtt.discovery_prefix}/+/{mqtt.node_id}/+/config"
        self._discovery_prefix = mqtt.discovery_prefix
        self._node = mqtt.node_id

    def vehicle(self, vehicle: str) -> str:
        return f"{self.prefix}/vehicle/{vehicle}/state"

    def command(self, vehicle: str, command: str) -> str:
        return f"{self.prefix}/vehicle/{vehicle}/{command}/set"

    def parse_command(self, topic: str) -> tuple[str, str] | None:
        """(vehicle, command) of a command topic, else None."""
        parts = topic.split("/")
        head = self.prefix.split("/")
        if len(parts) != len(head) + 4 or parts[: len(head)] != head or parts[len(head)] != "vehicle" \
                or parts[-1] != "set":
            return None
        return parts[-3], parts[-2]

    def is_config(self, topic: str) -> bool:
        """Whether the topic is a config message of this node (any component, any entity)."""
        parts = topic.split("/")
        head = self._discovery_prefix.split("/")
        return len(parts) == len(head) + 4 and parts[: len(head)] == head and parts[-3] == self._node \
            and parts[-1] == "config"


def discovery_messages(settings: Settings, mqtt: MqttBridgeSettings,
                       version: str = __version__) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, payload) for every entity: the site's and each car's."""
    topics, node = Topics(mqtt), mqtt.node_id
    site = site_device(settings, mqtt, version)
    common = {"availability_topic": topics.status, "payload_available": "online", "payload_not_available": "offline",
              "origin": origin(version)}
    out: list[tuple[str, dict[str, Any]]] = []

    def entity(component: str, object_id: str, name: str, device: dict[str, Any], **fields: Any) -> None:
        unique = f"{node}_{object_id}"
        # default_entity_id replaced object_id in Home Assistant 2025.10 (object_id ends in 2026.4).
        payload = {"name": name, "unique_id": unique, "default_entity_id": f"{component}.{unique}", "device": device,
                   **common, **fields}
        out.append((f"{mqtt.discovery_prefix}/{component}/{node}/{object_id}/config", payload))

    entity("sensor", "plan_cost", "Plan cost", site, state_topic=topics.plan,
           value_template="{{ value_json.cost_eur }}", unit_of_measurement="EUR", device_class="monetary")
    entity("sensor", "plan_status", "Plan status", site, state_topic=topics.plan,
           value_template="{{ value_json.status }}", **DIAGNOSTIC)
    entity("sensor", "next_handoff", "Next handoff", site, state_topic=topics.state,
           value_template="{{ value_json.handoff or 'none' }}", json_attributes_topic=topics.state,
           json_attributes_template="{{ {'vehicle': value_json.handoff_vehicle, 'by': value_json.handoff_by}"
                                    " | tojson }}", **DIAGNOSTIC)
    entity("binary_sensor", "evcc_reachable", "evcc reachable", site, state_topic=topics.state,
           value_template="{{ 'ON' if value_json.evcc_reachable else 'OFF' }}", device_class="connectivity",
           **DIAGNOSTIC)
    for vehicle, config in settings.vehicles.items():
        device = car_device(mqtt, vehicle, config)
        for component, what, name, fields in _car_entities(topics, vehicle, mqtt.boost_minutes):
            entity(component, f"{vehicle}_{what}", name, device, **fields)
    return out


def _car_entities(topics: Topics, vehicle: str, boost_minutes: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    state = topics.vehicle(vehicle)

    def value(key: str) -> dict[str, str]:
        return {"state_topic": state, "value_template": f"{{{{ value_json.{key} }}}}"}

    def press(command: str) -> dict[str, str]:
        return {"command_topic": topics.command(vehicle, command), "payload_press": "PRESS"}

    return [
        ("sensor", "soc", "SoC", {**value("soc_pct"), "unit_of_measurement": "%", "device_class": "battery",
                                  **MEASUREMENT}),
        # Republished each minute (bridge.py), so it does not stand still between polls.
        ("sensor", "soc_age", "SoC age", {**value("soc_age_min"), "unit_of_measurement": "min",
                                          "device_class": "duration", **MEASUREMENT, **DIAGNOSTIC}),
        ("sensor", "soc_measured_at", "SoC measured", {**value("soc_measured_at"), "device_class": "timestamp",
                                                       **DIAGNOSTIC}),
        ("sensor", "target", "Target SoC", {**value("target_soc_pct"), "unit_of_measurement": "%", **MEASUREMENT}),
        ("sensor", "departure", "Departure", {**value("departure"), "device_class": "timestamp"}),
        ("sensor", "projected_soc", "SoC at departure", {**value("projected_soc_pct"), "unit_of_measurement": "%",
                                                         **MEASUREMENT}),
        ("button", "boost", f"Boost {boost_minutes} min", press("boost")),
        ("button", "refresh", "Refresh SoC", press("refresh")),
        ("button", "cancel", "Cancel charge request", press("cancel")),
        ("number", "target_soc", "Target SoC", {
            "command_topic": topics.command(vehicle, "target_soc"), **value("target_soc_pct"), "min": 10,
            "max": 100, "step": 5, "unit_of_measurement": "%", "mode": "slider"}),
        # A reading typed in by hand, as POST /api/vehicles/<id>/soc takes it; shows the SoC in use.
        ("number", "manual_soc", "Enter SoC", {
            "command_topic": topics.command(vehicle, "soc"), **value("soc_pct"), "min": 0, "max": 100, "step": 1,
            "unit_of_measurement": "%", "mode": "box"}),
        # Any time of day (Home Assistant sends HH:MM:SS); the next one at the site.
        ("time", "departure_time", "Departure time", {
            "command_topic": topics.command(vehicle, "departure"), **value("departure_local")}),
    ]
