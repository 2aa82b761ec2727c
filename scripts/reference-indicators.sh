#!/usr/bin/env bash
# Writes the indicator reference values (tests/reference/indicators.py, with
# TA-Lib) for the GOOG and EURUSD data to target/reference-data/indicators/.
# Fetches the data and creates the Python env first when missing; skips a
# data set whose output is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-reference-data.sh
bash scripts/reference-env.sh
out=target/reference-data/indicators
mkdir -p "$out"
for name in GOOG EURUSD; do
    if [[ ! -s $out/$name.csv ]]; then
        target/reference-venv/bin/python tests/reference/indicators.py \
            "target/reference-data/$name.csv" "$out/$name.csv"
    fi
done
echo "indicator reference values in $out: $(ls "$out" | tr '\n' ' ')"
