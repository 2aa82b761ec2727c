#!/usr/bin/env bash
# Installs nats-server (Debian's package, 2.9.x) for the fleet's end-to-end
# tests (tests/e2e/fleet.rs), which start their own server on a free
# loopback port. A no-op when it is already installed.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "installing nats-server (apt-get) for the fleet tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
# The package enables a system service on port 4222; the tests start their
# own servers and need none running.
if command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now nats-server >/dev/null 2>&1 || true
fi
