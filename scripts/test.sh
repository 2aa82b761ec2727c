#!/usr/bin/env bash
# Runs every test: installs the Wasm guest toolchain if it is missing, then
# the whole workspace's unit, end-to-end and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-guest-toolchain.sh
cargo test --workspace "$@" && cargo test -p sandbar --benches "$@"
