#!/usr/bin/env bash
# The live demo on embedded defaults: builds the runtime and the example
# strategies, then runs `runtime live` on a synthetic feed with the paper
# broker until Ctrl-C. Set DEMO_BARS=N to stop after N bars.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-guest-toolchain.sh
# `build --all` builds the Python and JavaScript examples too.
bash scripts/install-python-guest.sh all
cargo build -p sandbar-runtime --bin runtime
runtime=target/debug/runtime
"$runtime" build --all
args=(live --journal journal/demo)
if [ -n "${DEMO_BARS:-}" ]; then
    args+=(--bars "$DEMO_BARS")
fi
echo "== runtime ${args[*]}   (Ctrl-C stops; journal in journal/demo/)"
exec "$runtime" "${args[@]}"
