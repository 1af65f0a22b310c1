"""Home Assistant MQTT discovery: one retained config message per entity.

Topics (prefix from settings, "smartload" by default): <prefix>/status (online/offline,
the last will), <prefix>/state (site), <prefix>/plan (plan summary),
<prefix>/vehicle/<id>/state (each car), commands on <prefix>/vehicle/<id>/<command>/set.
"""

from __future__ import annotations

from typing import Any

from smartload.settings import Settings
from smartload.settings.mqtt import MqttBridgeSettings

COMMANDS = ("boost", "refresh", "cancel", "soc", "target_soc", "departure")
DEPARTURE_OPTIONS = tuple(f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30))


class Topics:
    def __init__(self, mqtt: MqttBridgeSettings) -> None:
        self.prefix = mqtt.topic_prefix
        self.status = f"{self.prefix}/status"
        self.state = f"{self.prefix}/state"
        self.plan = f"{self.prefix}/plan"
        self.error = f"{self.prefix}/error"
        self.commands = f"{self.prefix}/vehicle/+/+/set"
        self.ha_status = f"{mqtt.discovery_prefix}/status"

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


def discovery_messages(settings: Settings, mqtt: MqttBridgeSettings) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, payload) for every entity: the site's and each car's."""
    topics, node = Topics(mqtt), mqtt.client_id
    site_device = {"identifiers": [node], "name": "smartload", "manufacturer": "smartload", "model": "charge planner"}
    common = {"availability_topic": topics.status, "payload_available": "online", "payload_not_available": "offline"}
    out: list[tuple[str, dict[str, Any]]] = []

    def entity(component: str, object_id: str, name: str, device: dict[str, Any], **fields: Any) -> None:
        unique = f"{node}_{object_id}"
        # default_entity_id replaced object_id in Home Assistant 2025.10 (object_id ends in 2026.4).
        payload = {"name": name, "unique_id": unique, "default_entity_id": f"{component}.{unique}", "device": device,
                   **common, **fields}
        out.append((f"{mqtt.discovery_prefix}/{component}/{node}/{object_id}/config", payload))

    entity("sensor", "plan_cost", "Plan cost", site_device, state_topic=topics.plan,
           value_template="{{ value_json.cost_eur }}", unit_of_measurement="EUR", device_class="monetary")
    entity("sensor", "plan_status", "Plan status", site_device, state_topic=topics.plan,
           value_template="{{ value_json.status }}")
    entity("sensor", "next_handoff", "Next handoff", site_device, state_topic=topics.state,
           value_template="{{ value_json.handoff or 'none' }}", json_attributes_topic=topics.state,
           json_attributes_template="{{ {'vehicle': value_json.handoff_vehicle, 'by': value_json.handoff_by}"
                                    " | tojson }}")
    entity("binary_sensor", "evcc_reachable", "evcc reachable", site_device, state_topic=topics.state,
           value_template="{{ 'ON' if value_json.evcc_reachable else 'OFF' }}", device_class="connectivity")
    for vehicle, config in settings.vehicles.items():
        device = {"identifiers": [f"{node}_{vehicle}"], "name": config.title or vehicle, "via_device": node}
        for component, what, name, fields in _car_entities(topics, vehicle, mqtt.boost_minutes):
            entity(component, f"{vehicle}_{what}", name, device, **fields)
    return out


def _car_entities(topics: Topics, vehicle: str, boost_minutes: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    state = topics.vehicle(vehicle)
    return [
        ("sensor", "soc", "SoC", {"state_topic": state, "value_template": "{{ value_json.soc_pct }}",
                                  "unit_of_measurement": "%", "device_class": "battery",
                                  "state_class": "measurement"}),
        ("sensor", "soc_age", "SoC age", {"state_topic": state, "value_template": "{{ value_json.soc_age_min }}",
                                          "unit_of_measurement": "min", "device_class": "duration"}),
        ("sensor", "target", "Target SoC", {"state_topic": state, "unit_of_measurement": "%",
                                            "value_template": "{{ value_json.target_soc_pct }}"}),
        ("sensor", "departure", "Departure", {"state_topic": state, "value_template": "{{ value_json.departure }}",
                                              "device_class": "timestamp"}),
        ("sensor", "projected_soc", "SoC at departure", {
            "state_topic": state, "value_template": "{{ value_json.projected_soc_pct }}", "unit_of_measurement": "%"}),
        ("button", "boost", f"Boost {boost_minutes} min", {"command_topic": topics.command(vehicle, "boost"),
                                                            "payload_press": "PRESS"}),
        ("button", "refresh", "Refresh SoC", {"command_topic": topics.command(vehicle, "refresh"),
                                              "payload_press": "PRESS"}),
        ("number", "target_soc", "Target SoC", {
            "command_topic": topics.command(vehicle, "target_soc"), "state_topic": state,
            "value_template": "{{ value_json.target_soc_pct }}", "min": 10, "max": 100, "step": 5,
            "unit_of_measurement": "%", "mode": "slider"}),
        ("select", "departure_time", "Departure time", {
            "command_topic": topics.command(vehicle, "departure"), "state_topic": state,
            "value_template": "{{ value_json.departure_local }}", "options": list(DEPARTURE_OPTIONS)}),
    ]
