"""The Home Assistant add-on: its options as settings (options.py) and Home Assistant's MQTT
broker found through the Supervisor (supervisor.py). The add-on's files are in addon/."""
