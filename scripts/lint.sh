#!/usr/bin/env bash
# cargo fmt and cargo clippy -D warnings, on the native and the wasm32 targets.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
cargo fmt --all -- --check
cargo clippy --quiet --workspace --all-targets -- -D warnings
cargo clippy --quiet -p beckon-shared -p beckon-client -p beckon-edge -p beckon-widget -p beckon-console -p beckon-console-pages \
    --all-targets --target wasm32-unknown-unknown -- -D warnings
# The chat app as it is built (shared's browser JSON reading, `quiet`), which the line above
# never checks: the edge there turns on shared's `worker`.
cargo clippy --quiet -p beckon-widget --lib --target wasm32-unknown-unknown -- -D warnings
# The inbox as the pages app links it (without its `app` feature), which the line above
# never checks: features are unified across the packages it names.
cargo clippy --quiet -p beckon-console --no-default-features --lib --target wasm32-unknown-unknown -- -D warnings
