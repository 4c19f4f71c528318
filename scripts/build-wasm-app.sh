#!/usr/bin/env bash
# Builds one yew app to optimised wasm + JS glue:
#   scripts/build-wasm-app.sh <cargo package> <lib name> <output dir> [cargo features]
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
package="$1" lib="$2" out="$3" features="${4:-}"
tmp="build/wasm-bindgen/$lib"

# Its own target dir: the rebuilt std must not invalidate the stable builds (tests, clippy).
target="target/app"
RUSTFLAGS="$APP_RUSTFLAGS" CARGO_TARGET_DIR="$target" \
    cargo "+$APP_TOOLCHAIN" build --quiet --release --target wasm32-unknown-unknown -p "$package" \
    ${features:+--features "$features"} -Z build-std=std,panic_abort
rm -rf "$tmp" && mkdir -p "$tmp" "$out"
wasm-bindgen --target web --no-typescript --out-dir "$tmp" --out-name "$lib" \
    "$target/wasm32-unknown-unknown/release/$lib.wasm"
# --converge repeats -Oz until it stops shrinking (about 0.35 % of gzip size for ~30 s).
# shellcheck disable=SC2086
wasm-opt -Oz --converge $WASM_OPT_FEATURES -o "$out/${lib}_bg.wasm" "$tmp/${lib}_bg.wasm"
cp "$tmp/$lib.js" "$out/$lib.js"
