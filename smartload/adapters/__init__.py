"""What sits on top of the running pipeline: history store, web server, MQTT for Home
Assistant, notifications. `start_adapters` starts those the settings turn on."""

from smartload.adapters.backend import Backend
from smartload.adapters.start import Adapters, open_adapters, start_adapters

__all__ = ["Adapters", "Backend", "open_adapters", "start_adapters"]
