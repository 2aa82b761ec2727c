#!/usr/bin/env bash
# Installs a toolchain that can build strategies for wasm32-unknown-unknown.
#
# Preferred: the rustup target. Where rustup cannot download targets (no route
# to its server), fall back to Debian's rustc-web/cargo-web with std sources,
# which `runtime build` drives with -Zbuild-std.
set -euo pipefail

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "guest toolchain: rustup target wasm32-unknown-unknown already installed"
    exit 0
fi

echo "guest toolchain: trying 'rustup target add wasm32-unknown-unknown'"
if timeout 60 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    echo "guest toolchain: rustup target installed"
    exit 0
fi

fallback_ok() {
    [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] &&
        [ -d /usr/lib/rustlib/src/rust/library ] &&
        { [ -e "$(readlink -f /usr/bin/rust-lld 2>/dev/null || echo /nonexistent)" ] || command -v wasm-ld >/dev/null; }
}

if fallback_ok; then
    echo "guest toolchain: Debian fallback already installed ($(/usr/bin/rustc --version))"
    exit 0
fi

PACKAGES="rustc-web cargo-web rust-web-src lld-22"
if [ "$(id -u)" -ne 0 ]; then
    echo "guest toolchain: rustup cannot add the target and the Debian fallback is missing." >&2
    echo "Run as root:" >&2
    echo "    apt-get update && apt-get install -y $PACKAGES" >&2
    exit 1
fi

echo "guest toolchain: rustup target unavailable; installing Debian fallback: $PACKAGES"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $PACKAGES >/dev/null
echo "guest toolchain: installed $(/usr/bin/rustc --version)"
