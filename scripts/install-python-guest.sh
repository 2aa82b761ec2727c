#!/usr/bin/env bash
# Installs the pinned tools that turn Python and JavaScript strategies into
# components, into project-owned directories under target/ (never system-wide):
#
#   target/guest-py/  a venv with componentize-py  (python strategies)
#   target/guest-js/  node_modules with componentize-js and jco (js strategies)
#
# Offline-safe: a tool that is already installed at its pinned version is not
# asked for again. `runtime build` names this script when a tool is missing.
#
#   scripts/install-python-guest.sh [python|js|all]   (default: all)
set -euo pipefail

COMPONENTIZE_PY=0.25.1
COMPONENTIZE_JS=0.23.0
JCO=1.35.0

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
what="${1:-all}"

install_python() {
    local venv="$target/guest-py"
    if [ -x "$venv/bin/componentize-py" ] &&
        [ "$("$venv/bin/componentize-py" --version 2>/dev/null | awk '{print $2}')" = "$COMPONENTIZE_PY" ]; then
        echo "python guest: componentize-py $COMPONENTIZE_PY already in $venv"
        return
    fi
    command -v python3 >/dev/null || { echo "python guest: python3 is missing (apt-get install -y python3 python3-venv)" >&2; exit 1; }
    echo "python guest: installing componentize-py $COMPONENTIZE_PY into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY"
    echo "python guest: $("$venv/bin/componentize-py" --version)"
}

install_js() {
    # The whole npm tree is pinned by scripts/guest-js/package-lock.json
    # (npm ci installs exactly it); a tree installed from another lock file
    # is replaced.
    local dir="$target/guest-js"
    local lock="$root/scripts/guest-js"
    local have_cjs have_jco
    have_cjs="$(node -p "require('$dir/node_modules/@bytecodealliance/componentize-js/package.json').version" 2>/dev/null || true)"
    have_jco="$(node -p "require('$dir/node_modules/@bytecodealliance/jco/package.json').version" 2>/dev/null || true)"
    if [ "$have_cjs" = "$COMPONENTIZE_JS" ] && [ "$have_jco" = "$JCO" ] &&
        cmp -s "$lock/package-lock.json" "$dir/.installed-lock.json"; then
        echo "js guest: componentize-js $COMPONENTIZE_JS and jco $JCO already in $dir"
        return
    fi
    command -v node >/dev/null || { echo "js guest: node is missing (apt-get install -y nodejs npm)" >&2; exit 1; }
    command -v npm >/dev/null || { echo "js guest: npm is missing (apt-get install -y nodejs npm)" >&2; exit 1; }
    echo "js guest: installing componentize-js $COMPONENTIZE_JS and jco $JCO into $dir (npm ci, pinned by scripts/guest-js/package-lock.json)"
    mkdir -p "$dir"
    rm -f "$dir/.installed-lock.json"
    cp "$lock/package.json" "$lock/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
    cp "$lock/package-lock.json" "$dir/.installed-lock.json"
    echo "js guest: installed into $dir"
}

case "$what" in
python) install_python ;;
js) install_js ;;
all) install_python; install_js ;;
*) echo "usage: $0 [python|js|all]" >&2; exit 2 ;;
esac
