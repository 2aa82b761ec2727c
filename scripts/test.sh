#!/usr/bin/env bash
# Runs every test: installs what the tests need when it is missing (the Wasm
# guest toolchain, componentize-py and componentize-js for the Python and
# JavaScript strategies, the headless browser for the dashboard, nats-server
# for the fleet), then the whole workspace's unit, end-to-end and doc tests.
# Nothing is fetched when it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-guest-toolchain.sh
# componentize-py into target/guest-py and componentize-js (npm ci of
# scripts/guest-js/package-lock.json) into target/guest-js, pinned.
bash scripts/install-python-guest.sh all
bash scripts/install-browser.sh
bash scripts/install-nats-server.sh
cargo test --workspace "$@" && cargo test -p sandbar --benches "$@"
