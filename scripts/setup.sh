#!/usr/bin/env bash
# Installs whatever is missing to build and run Beckon; idempotent and quiet when all is there.
#   scripts/setup.sh            toolchain for building and running (make dev)
#   scripts/setup.sh --browser  also what only the tests need (make test): Chromium +
#                               ChromeDriver, and the API fuzzer (schemathesis, PyPI)
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"

step() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

# The browser apps are built with a pinned nightly (see env.sh: APP_TOOLCHAIN) to rebuild std
# without panic messages and Debug formatting: a smaller download for every visitor.
if ! rustup run "$APP_TOOLCHAIN" rustc --print sysroot >/dev/null 2>&1 \
    || [ ! -d "$(rustup run "$APP_TOOLCHAIN" rustc --print sysroot)/lib/rustlib/src" ] \
    || [ ! -d "$(rustup run "$APP_TOOLCHAIN" rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
    step "installing $APP_TOOLCHAIN with rust-src and wasm32 (~10 s)"
    rustup toolchain install "$APP_TOOLCHAIN" --profile minimal -c rust-src -t wasm32-unknown-unknown
fi

wbg_version="$(beckon_wasm_bindgen_version)"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ] \
    || ! command -v wasm-bindgen-test-runner >/dev/null; then
    step "installing wasm-bindgen-cli $wbg_version (matches Cargo.lock; ~2 min)"
    # Not --locked: one of its pinned transitive dependencies is gone from the registry.
    cargo install wasm-bindgen-cli --version "$wbg_version" --force
fi

# A debug build (71 s here instead of 175): worker-build only drives cargo, wasm-bindgen,
# esbuild and wasm-opt, and the Worker it builds is byte-identical.
if [ "$(worker-build --version 2>/dev/null)" != "0.8.7" ]; then
    step "installing worker-build 0.8.7 (~1 min)"
    cargo install worker-build --version 0.8.7 --locked --debug --force
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "installing pinned Node 22, wrangler and binaryen (npm ci)"
    npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--browser" ]; then
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        step "installing Chromium and ChromeDriver (apt)"
        sudo_cmd=""
        [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
    # The API fuzzer of tests/tests/fuzz.rs, pinned, in a virtualenv under target/.
    schemathesis_version=4.32.5
    if [ "$(target/fuzz-venv/bin/schemathesis --version 2>/dev/null)" != "schemathesis, version $schemathesis_version" ]; then
        step "installing schemathesis $schemathesis_version (PyPI, into target/fuzz-venv; ~30 s)"
        python3 -m venv target/fuzz-venv
        target/fuzz-venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
    fi
fi
