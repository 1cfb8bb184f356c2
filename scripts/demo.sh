#!/usr/bin/env bash
# The demo: builds the plugins and the host, then runs the whole pipeline on
# librdkafka's mock cluster inside one process: the bundled GOOG ticks are
# published to the `ticks` topic, the streaming host judges them with the
# chain of host/tickhost.toml and publishes its outputs, and the report is
# printed on stderr. No broker, no API key, no network.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-plugins.sh
cargo run --release -p tickhost -- demo --config host/tickhost.toml --input host/data/goog.jsonl
