#!/usr/bin/env bash
# Runs every test: installs the Wasm guest toolchain and nats-server (the
# fleet tests) if they are missing, then
# the whole workspace's unit, end-to-end and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-guest-toolchain.sh
bash scripts/install-nats-server.sh
cargo test --workspace "$@" && cargo test -p sandbar --benches "$@"
