#!/usr/bin/env bash
# Runs every test: installs what the tests need when it is missing (the Wasm
# guest toolchain, componentize-py for the Python strategies, the headless
# browser for the dashboard, nats-server for the fleet), then the whole
# workspace's unit, end-to-end and doc tests. Nothing is fetched when it is
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-guest-toolchain.sh
# componentize-py, pinned, into target/guest-py.
bash scripts/install-python-guest.sh python
bash scripts/install-browser.sh
bash scripts/install-nats-server.sh
cargo test --workspace "$@" && cargo test -p sandbar --benches "$@"
