#!/usr/bin/env bash
# Installs the headless browser the dashboard and report tests drive
# (tests/e2e/dashboard/): Debian's `chromium`. Does nothing when one is
# already there (`SANDBAR_CHROMIUM`, or chromium on PATH). Without root it
# says what to run; the tests then skip loudly, except under CI, where a
# missing browser fails them.
set -euo pipefail

if [ -n "${SANDBAR_CHROMIUM:-}" ] && [ -x "$SANDBAR_CHROMIUM" ]; then
    echo "browser: $SANDBAR_CHROMIUM (SANDBAR_CHROMIUM)"
    exit 0
fi
for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "browser: $(command -v "$name") already installed"
        exit 0
    fi
done

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: no chromium, and this script can install it only as root with apt-get." >&2
    echo "Run as root:    apt-get update && apt-get install -y chromium" >&2
    echo "or point SANDBAR_CHROMIUM at a Chromium; the browser tests skip without one (CI fails)." >&2
    exit 0
fi

echo "browser: installing Debian's chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "browser: $(command -v chromium) installed"
