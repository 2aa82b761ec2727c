#!/usr/bin/env bash
# Creates the Python environment of the indicator reference test:
# target/reference-venv with TA-Lib's Python package (its wheels ship the C
# library) and numpy, at pinned versions. Idempotent: quick when present.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/reference-venv
stamp=$venv/.sandbar-ready
# Bump together with the pins below: a different stamp rebuilds the venv.
want="ta-lib==0.6.8 numpy==2.2.6"
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install --quiet --only-binary=:all: $want
"$venv/bin/python" -c 'import talib, numpy'
echo "$want" >"$stamp"
echo "reference env in $venv: $want"
