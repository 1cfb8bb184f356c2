#!/usr/bin/env bash
# The demo: builds the plugins and the host, then runs the bundled GOOG ticks
# through the chain of host/tickhost.toml. Records go to
# target/demo-records.jsonl; the report is printed on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-plugins.sh
cargo run --release -p tickhost -- run \
    --config host/tickhost.toml \
    --input host/data/goog.jsonl \
    --output target/demo-records.jsonl
echo "records written to target/demo-records.jsonl" >&2
