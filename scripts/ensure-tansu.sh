#!/usr/bin/env bash
# Installs the tansu broker that the integration tests run against, once per machine.
#
# tansu 0.6.0 takes 11 to 20 minutes to build on two cores, so the binary is kept in
# a cache outside the work tree (TICKHOST_CACHE, default ~/.cache/tickhost) and this
# script returns at once when it is already there. Prints the binary's path.
set -euo pipefail

version=0.6.0
cache=${TICKHOST_CACHE:-$HOME/.cache/tickhost}
root=$cache/tansu-$version
bin=$root/bin/tansu

if [ ! -x "$bin" ]; then
    echo "installing tansu $version into $root (11 to 20 minutes, once per machine)" >&2
    cargo install tansu --version "$version" --locked --features dynostore,libsql \
        --root "$root" >&2
fi
echo "$bin"
