#!/bin/sh
# The container image's steps, in one script that the Dockerfile, the systemd example and the
# tests (tests/deploy/) all run, so what the image does is tested where no image can be built.
#
#   container.sh install PREFIX [SOURCE]  a virtualenv at PREFIX with smartload from SOURCE (a
#                                         checkout; default: the one holding this script), the
#                                         shipped settings as a template, and this script as
#                                         PREFIX/bin/smartload-container
#   smartload-container run [ARGS...]     the entrypoint: settings and data in $SMARTLOAD_DATA_DIR
#                                         (default /data), web on 0.0.0.0; ARGS go to `smartload`
#                                         after `run` (e.g. --duration 10m)
#   smartload-container health            exit 0 while GET /api/health answers 200
#
# Environment (run): SMARTLOAD_DATA_DIR, SMARTLOAD_SETTINGS (default $SMARTLOAD_DATA_DIR/settings.yaml,
# copied from the template on first start), every SMARTLOAD_* setting, and SMARTLOAD_<KEY>_FILE
# for a secret kept in a file (a Docker/compose secret): SMARTLOAD_WEB__TOKEN_FILE=/run/secrets/x
# sets SMARTLOAD_WEB__TOKEN to the file's first line.
set -eu

die() { echo "smartload-container: $*" >&2; exit 2; }

install_prefix() {
    prefix=$1
    source=${2:-$(cd "$(dirname "$0")/.." && pwd)}
    [ -f "$source/pyproject.toml" ] || die "$source is not a smartload checkout (no pyproject.toml)"
    "${PYTHON:-python3}" -m venv "$prefix"
    # Installed from the directory, not by name: the same step for a checkout, a CI clone and
    # the image's build context. pip's cache stays in the image's build stage.
    "$prefix/bin/pip" install --disable-pip-version-check --quiet "$source"
    mkdir -p "$prefix/share/smartload"
    cp "$source/settings.yaml" "$prefix/share/smartload/settings.yaml"
    cp "$source/deploy/container.sh" "$prefix/bin/smartload-container"
    chmod 0755 "$prefix/bin/smartload-container"
    # Smoke test of the installed command: it runs and reads the template.
    "$prefix/bin/smartload" --settings "$prefix/share/smartload/settings.yaml" check-config >/dev/null
}

# SMARTLOAD_X_FILE=path -> SMARTLOAD_X=<first line of the file>, for every such variable.
secrets_from_files() {
    for name in $(env | sed -n 's/^\(SMARTLOAD_[A-Za-z0-9_]*\)_FILE=.*/\1/p'); do
        file=$(printenv "${name}_FILE")
        [ -r "$file" ] || die "${name}_FILE: $file is not readable"
        IFS= read -r value <"$file" || [ -n "$value" ] || die "${name}_FILE: $file is empty"
        export "$name=$value"
        unset "${name}_FILE"
    done
}

run() {
    prefix=$(cd "$(dirname "$0")/.." && pwd)
    [ -x "$prefix/bin/smartload" ] || die "run the installed copy: PREFIX/bin/smartload-container run"
    export SMARTLOAD_DATA_DIR="${SMARTLOAD_DATA_DIR:-/data}"
    export SMARTLOAD_SETTINGS="${SMARTLOAD_SETTINGS:-$SMARTLOAD_DATA_DIR/settings.yaml}"
    # Reachable from outside the container; the project's default stays 127.0.0.1.
    export SMARTLOAD_WEB__HOST="${SMARTLOAD_WEB__HOST:-0.0.0.0}"
    secrets_from_files
    mkdir -p "$SMARTLOAD_DATA_DIR"
    if [ ! -e "$SMARTLOAD_SETTINGS" ]; then
        # A first start gets the shipped settings (embedded simulator) to edit in the volume.
        cp "$prefix/share/smartload/settings.yaml" "$SMARTLOAD_SETTINGS"
        echo "smartload-container: wrote $SMARTLOAD_SETTINGS from the shipped settings; edit it" >&2
    fi
    # exec: smartload is PID 1 and gets the SIGTERM of `docker stop` (a clean stop puts back
    # what it changed in evcc).
    exec "$prefix/bin/smartload" --settings "$SMARTLOAD_SETTINGS" run "$@"
}

health() {
    prefix=$(cd "$(dirname "$0")/.." && pwd)
    exec "$prefix/bin/python" - "${SMARTLOAD_WEB__PORT:-8099}" <<'EOF'
import sys
import urllib.request

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/health", timeout=5) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except OSError as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
EOF
}

command=${1:-}
[ $# -gt 0 ] && shift
case $command in
    install) [ $# -ge 1 ] || die "usage: container.sh install PREFIX [SOURCE]"; install_prefix "$@" ;;
    run) run "$@" ;;
    health) health ;;
    *) die "usage: container.sh install PREFIX [SOURCE] | run [ARGS...] | health" ;;
esac
