#!/usr/bin/env bash
# Every test: unit tests of the host and the plugins, and the integration
# tests, which build the plugin components themselves and run the Kafka
# tests against a tansu broker (installed once per machine, see
# scripts/ensure-tansu.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
TICKHOST_TANSU=$(scripts/ensure-tansu.sh)
export TICKHOST_TANSU
cargo test --release --workspace "$@"
