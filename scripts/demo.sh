#!/usr/bin/env bash
# The live demo on embedded defaults: builds the runtime and the example
# strategies, then runs `runtime live` on a synthetic feed with the paper
# broker until Ctrl-C. Set DEMO_BARS=N to stop after N bars.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-guest-toolchain.sh
cargo build -p sandbar-runtime --bin runtime
runtime=target/debug/runtime
# The Rust examples (the demo runs three of them). The Python and
# JavaScript ones need their own tool chains, which the demo does not
# install: `runtime build --all` builds every example once they are there
# (`bash scripts/install-python-guest.sh all`).
rust_examples=()
for manifest in strategies/*/Cargo.toml; do
    rust_examples+=("$(dirname "$manifest")")
done
"$runtime" build "${rust_examples[@]}"
args=(live --journal journal/demo)
if [ -n "${DEMO_BARS:-}" ]; then
    args+=(--bars "$DEMO_BARS")
fi
echo "== runtime ${args[*]}   (Ctrl-C stops; journal in journal/demo/)"
exec "$runtime" "${args[@]}"
