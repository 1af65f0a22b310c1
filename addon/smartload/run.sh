#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# Starts smartload with the add-on's options (/data/options.json, read through
# smartload.addon.options), or with a full settings.yaml in the add-on's config folder.
set -e

export SMARTLOAD_ADDON_OPTIONS=/data/options.json
if bashio::fs.file_exists /config/settings.yaml; then
    bashio::log.info "Reading /config/settings.yaml instead of the add-on's options"
    export SMARTLOAD_SETTINGS=/config/settings.yaml
    # What the add-on needs whatever the file says: its data folder, and the dashboard on
    # the ingress port, open to the Supervisor's ingress proxy.
    export SMARTLOAD_DATA_DIR=/data
    export SMARTLOAD_WEB__HOST=0.0.0.0
    export SMARTLOAD_WEB__PORT=8099
    export SMARTLOAD_WEB__TRUSTED_PROXIES='["172.30.32.2"]'
    export SMARTLOAD_WEB__PROXY_USER_HEADER=X-Remote-User-Id
fi

# Home Assistant's MQTT broker is found through the Supervisor (SUPERVISOR_TOKEN).
exec smartload run
