#!/usr/bin/env bash
# Fetches real public OHLCV data for the reference test: the GOOG daily
# (2004-2013) and EURUSD hourly (2017-2018) CSVs that ship inside the
# `backtesting` package on PyPI. Idempotent; writes target/reference-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/reference-data
if [[ -s $out/GOOG.csv && -s $out/EURUSD.csv ]]; then
    exit 0
fi
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" backtesting==0.6.6
python3 - "$tmp" "$out" <<'PY'
import glob, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(tmp + "/backtesting-*.whl")[0])
for name in ("GOOG", "EURUSD"):
    with open(f"{out}/{name}.csv", "wb") as f:
        f.write(wheel.read(f"backtesting/test/{name}.csv"))
PY
echo "reference data in $out: $(ls "$out" | tr '\n' ' ')"
