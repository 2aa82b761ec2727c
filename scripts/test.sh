#!/usr/bin/env bash
# Runs every test: installs the Wasm guest toolchains if they are missing, then
# the whole workspace's unit, end-to-end and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-guest-toolchain.sh
# componentize-py for the Python strategy tests (pinned, into target/guest-py;
# nothing is fetched when it is already there).
bash scripts/install-python-guest.sh python
cargo test --workspace "$@" && cargo test -p sandbar --benches "$@"
