# Shared environment for every Beckon script: pinned tools first on PATH, no telemetry, no
# network lookups from wrangler, and tool caches inside the repo's ignored folders.
# Source it: `. scripts/env.sh`.

BECKON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BECKON_ROOT
export PATH="$BECKON_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
unset CLOUDFLARE_API_TOKEN
export XDG_CONFIG_HOME="$BECKON_ROOT/.config"
export XDG_CACHE_HOME="$BECKON_ROOT/.cache"

# worker-build would otherwise download these from GitHub (which is unreachable here).
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$BECKON_ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$BECKON_ROOT/node_modules/.bin/esbuild"

# The exact wasm-bindgen version in Cargo.lock: library, CLI and test runner must match.
beckon_wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$BECKON_ROOT/Cargo.lock"
}

# The widget and the inbox are built with this nightly: `-Z build-std` rebuilds std with
# `panic=immediate-abort` (no panic messages or locations) and `-Z fmt-debug=none` (no Debug
# formatting), which the stable toolchain cannot drop (~10 % of the gzipped app).
export APP_TOOLCHAIN="nightly-2026-05-20"
export APP_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none"

# wasm-opt must accept what rustc's wasm32 target emits by default.
WASM_OPT_FEATURES="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue"
export WASM_OPT_FEATURES
