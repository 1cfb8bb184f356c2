#!/usr/bin/env bash
# Builds the three filter plugins as WebAssembly components into
# target/plugins/wasm32-wasip2/release/, where host/tickhost.toml finds them.
# Installs the wasm32-wasip2 target first if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
cargo build --release --target wasm32-wasip2 --target-dir target/plugins \
    -p spike -p threshold -p moving-average "$@"
